import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Harness, authorizeQuery, browser, confidentialParams, harness, local } from '../helpers/harness.js';

/**
 * The browser side of signing in at an upstream, up to the upstream's door: where the start
 * sends the browser, and the callback's refusals of a state that is unknown, used or another
 * browser's. The upstream here is only a discovery document on loopback.
 */
describe('upstream sign-in routes', () => {
  let h: Harness;
  let upstream: Server;
  let base: string;

  before(async () => {
    upstream = createServer((req, res) => {
      if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          jwks_uri: `${base}/jwks`,
          response_types_supported: ['code'],
        }),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await harness({
      identityBackend: 'sqlite',
      upstreams: [
        {
          id: 'corp',
          name: 'Corp SSO',
          type: 'oidc',
          issuer: base,
          client_id: 'gatehouse',
          client_secret: 'upstream-secret',
          provision: 'create',
        },
      ],
    });
  });
  after(async () => {
    await h.close();
    upstream.close();
  });

  const failures = () => h.audit.filter((l) => l.includes('event=upstream_failure'));

  it('sends the browser to the upstream with PKCE S256, state, nonce and the callback', async () => {
    const res = await browser(h).get('/oauth2/upstream/corp/start').expect(303);
    const url = new URL(res.headers.location!);
    assert.equal(`${url.origin}${url.pathname}`, `${base}/authorize`);
    assert.equal(url.searchParams.get('client_id'), 'gatehouse');
    assert.equal(url.searchParams.get('redirect_uri'), 'http://localhost:4000/oauth2/upstream/corp/callback');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((url.searchParams.get('state') ?? '').length >= 32);
    assert.ok((url.searchParams.get('nonce') ?? '').length >= 32);
    assert.equal(url.searchParams.get('scope'), 'openid email profile');
  });

  it('refuses an unknown upstream and an expired authorization request', async () => {
    await browser(h).get('/oauth2/upstream/nope/start').expect(404);
    const res = await browser(h).get('/oauth2/upstream/corp/start?interaction=made-up').expect(404);
    assert.match(res.text, /expired/);
  });

  it('refuses a callback without a state, with an unknown one, and a replay', async () => {
    const agent = browser(h);
    const before = failures().length;
    await agent.get('/oauth2/upstream/corp/callback?code=x').expect(403);
    await agent.get('/oauth2/upstream/corp/callback?code=x&state=forged').expect(403);
    const start = new URL((await agent.get('/oauth2/upstream/corp/start').expect(303)).headers.location!);
    const state = start.searchParams.get('state')!;
    // The upstream answers an error: the state is used up by that answer.
    await agent.get(`/oauth2/upstream/corp/callback?error=server_error&state=${state}`).expect(403);
    const replay = await agent.get(`/oauth2/upstream/corp/callback?code=x&state=${state}`).expect(403);
    assert.match(replay.text, /expired or was already used/);
    const reasons = failures()
      .slice(before)
      .map((l) => /reason=(\S+)/.exec(l)?.[1]);
    assert.deepEqual(reasons, ['missing_state', 'unknown_state', 'upstream_server_error', 'unknown_state']);
  });

  it('refuses a callback in another browser than the one that started it', async () => {
    const start = new URL((await browser(h).get('/oauth2/upstream/corp/start').expect(303)).headers.location!);
    const res = await browser(h)
      .get(`/oauth2/upstream/corp/callback?code=x&state=${start.searchParams.get('state')}`)
      .expect(403);
    assert.match(res.text, /another browser/);
  });

  it('goes straight to the upstream with idp_hint, and to the sign-in screen for an unknown one', async () => {
    const agent = browser(h);
    const hinted = new URL((await agent.get(authorizeQuery(confidentialParams({ idp_hint: 'corp' }))).expect(303)).headers.location!);
    assert.equal(hinted.pathname, '/oauth2/upstream/corp/start');
    const upstreamUrl = new URL((await agent.get(local(hinted.href)).expect(303)).headers.location!);
    assert.equal(`${upstreamUrl.origin}${upstreamUrl.pathname}`, `${base}/authorize`);
    const unknown = new URL((await agent.get(authorizeQuery(confidentialParams({ idp_hint: 'nope' }))).expect(303)).headers.location!);
    assert.equal(unknown.pathname, '/login');
  });
});
