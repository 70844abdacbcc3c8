import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ISSUER, authorize, authorizeQuery, browser, confidentialParams, harness, pkce, type Harness } from '../helpers/harness.js';

const CB = 'http://127.0.0.1:8000/cb';
const publicParams = (extra: Record<string, string | undefined> = {}) => ({
  client_id: 'cli',
  redirect_uri: 'http://127.0.0.1:9000/callback',
  response_type: 'code',
  scope: 'openid profile',
  state: 'cli-state',
  code_challenge: pkce().challenge,
  code_challenge_method: 'S256',
  ...extra,
});

type Res = Awaited<ReturnType<ReturnType<typeof request>['get']>>;

function assertErrorPage(res: Res): void {
  assert.equal(res.status, 400, `expected an error page, got ${res.status} ${res.headers.location ?? ''}`);
  assert.match(res.headers['content-type'] ?? '', /^text\/html/);
  assert.equal(res.headers.location, undefined);
  assert.match(res.text, /<h1>/);
}

/** An RFC 6749 §4.1.2.1 error redirect with state and (RFC 9207) iss. */
function assertErrorRedirect(res: Res, error: string, { redirectUri = CB, state = 'state-123' as string | null } = {}): URL {
  assert.equal(res.status, 303, `expected a redirect, got ${res.status}`);
  const url = new URL(res.headers.location!);
  assert.equal(`${url.origin}${url.pathname}`, redirectUri);
  assert.equal(url.searchParams.get('error'), error);
  assert.ok(url.searchParams.get('error_description'));
  assert.equal(url.searchParams.get('state'), state);
  assert.equal(url.searchParams.get('iss'), ISSUER);
  assert.equal(url.searchParams.get('code'), null);
  return url;
}

describe('authorization endpoint', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const get = (params: Record<string, string | undefined>) => request(h.app).get(authorizeQuery(params));

  describe('until the client and redirect_uri are trusted, errors are shown, never redirected', () => {
    it('shows an error page for an unknown client_id', async () => {
      assertErrorPage(await get(confidentialParams({ client_id: 'nobody' })));
    });

    it('shows an error page for a missing client_id', async () => {
      assertErrorPage(await get(confidentialParams({ client_id: undefined })));
    });

    it('shows an error page for a missing redirect_uri', async () => {
      assertErrorPage(await get(confidentialParams({ redirect_uri: undefined })));
    });

    const variants: [string, string][] = [
      ['a path prefix of the registered one', 'http://127.0.0.1:8000/cb/extra'],
      ['a suffix on the path', 'http://127.0.0.1:8000/cbx'],
      ['a suffix on the host', 'https://grafana.example.org.evil.example/login/generic_oauth'],
      ['a different case in the host', 'https://GRAFANA.example.org/login/generic_oauth'],
      ['a different case in the path', 'http://127.0.0.1:8000/CB'],
      ['a trailing slash', 'http://127.0.0.1:8000/cb/'],
      ['another port', 'http://127.0.0.1:8001/cb'],
      ['the default port spelled out', 'https://grafana.example.org:443/login/generic_oauth'],
      ['https instead of http', 'https://127.0.0.1:8000/cb'],
      ['http instead of https', 'http://grafana.example.org/login/generic_oauth'],
      ['an extra query string', 'http://127.0.0.1:8000/cb?next=/admin'],
      ['a fragment', 'http://127.0.0.1:8000/cb#x'],
      ['localhost for 127.0.0.1', 'http://localhost:8000/cb'],
      ['user info before the host', 'https://grafana.example.org@evil.example/login/generic_oauth'],
      ["another client's redirect_uri", 'http://127.0.0.1:9000/callback'],
    ];
    for (const [what, uri] of variants) {
      it(`refuses a redirect_uri with ${what}`, async () => {
        assertErrorPage(await get(confidentialParams({ redirect_uri: uri })));
      });
    }

    it('shows an error page when client_id or redirect_uri is repeated', async () => {
      assertErrorPage(await request(h.app).get(`${authorizeQuery(confidentialParams())}&client_id=grafana`));
      assertErrorPage(await request(h.app).get(`${authorizeQuery(confidentialParams())}&redirect_uri=${encodeURIComponent(CB)}`));
      const afterAnother = new URLSearchParams([
        ['scope', 'openid'],
        ['scope', 'email'],
        ...Object.entries(confidentialParams()),
        ['client_id', 'cli'],
      ]);
      assertErrorPage(await request(h.app).get(`/oauth2/authorize?${afterAnother}`));
    });

    it('escapes request data on the error page and allows it no script', async () => {
      const res = await get(confidentialParams({ client_id: '<script>alert(1)</script>' }));
      assertErrorPage(res);
      assert.doesNotMatch(res.text, /<script/i);
      assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/);
      assert.doesNotMatch(res.headers['content-security-policy'] ?? '', /script-src/);
    });
  });

  describe('once the target is trusted, errors are redirected to it', () => {
    it('redirects invalid_request for a repeated parameter, wherever it appears', async () => {
      assertErrorRedirect(await request(h.app).get(`${authorizeQuery(confidentialParams())}&scope=openid`), 'invalid_request');
      const q = new URLSearchParams([['scope', 'openid'], ['scope', 'openid email'], ...Object.entries(confidentialParams())]);
      assertErrorRedirect(await request(h.app).get(`/oauth2/authorize?${q}`), 'invalid_request');
    });

    it('drops a repeated state from the error redirect', async () => {
      const res = await request(h.app).get(`${authorizeQuery(confidentialParams())}&state=other`);
      assertErrorRedirect(res, 'invalid_request', { state: null });
    });

    const cases: [string, Record<string, string | undefined>, string][] = [
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['response_type=id_token', { response_type: 'id_token' }, 'unsupported_response_type'],
      ['response_type=code id_token', { response_type: 'code id_token' }, 'unsupported_response_type'],
      ['a missing response_type', { response_type: undefined }, 'invalid_request'],
      ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
      ['a scope without openid', { scope: 'profile email' }, 'invalid_scope'],
      ['a missing scope', { scope: undefined }, 'invalid_scope'],
      ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
      ['a request_uri', { request_uri: 'https://client.example/request.jwt' }, 'request_uri_not_supported'],
      ['a registration parameter', { registration: '{}' }, 'registration_not_supported'],
      ['max_age=-1', { max_age: '-1' }, 'invalid_request'],
      ['max_age=abc', { max_age: 'abc' }, 'invalid_request'],
      ['max_age=1.5', { max_age: '1.5' }, 'invalid_request'],
      ['an unknown prompt value', { prompt: 'sometimes' }, 'invalid_request'],
      ['prompt=none combined with login', { prompt: 'none login' }, 'invalid_request'],
      ['an empty nonce', { nonce: '' }, 'invalid_request'],
      ['code_challenge_method=plain', { code_challenge: pkce().challenge, code_challenge_method: 'plain' }, 'invalid_request'],
    ];
    for (const [what, extra, error] of cases) {
      it(`redirects ${error} for ${what}`, async () => {
        assertErrorRedirect(await get(confidentialParams(extra)), error);
      });
    }

    it('redirects without a state when the request had none', async () => {
      assertErrorRedirect(await get(confidentialParams({ state: undefined, scope: 'profile' })), 'invalid_scope', { state: null });
    });
  });

  describe('PKCE', () => {
    const cb = 'http://127.0.0.1:9000/callback';
    const cases: [string, Record<string, string | undefined>][] = [
      ['a public client without code_challenge', { code_challenge: undefined, code_challenge_method: undefined }],
      ['code_challenge_method=plain', { code_challenge_method: 'plain' }],
      ['a method without a challenge', { code_challenge: undefined }],
      ['a challenge without a method (plain is the default)', { code_challenge_method: undefined }],
      ['a challenge too short for SHA-256', { code_challenge: 'abc123' }],
      ['a challenge with characters outside base64url', { code_challenge: `${'a'.repeat(42)}=` }],
    ];
    for (const [what, extra] of cases) {
      it(`refuses ${what}`, async () => {
        assertErrorRedirect(await get(publicParams(extra)), 'invalid_request', { redirectUri: cb, state: 'cli-state' });
      });
    }

    it('sends a public client with an S256 challenge on to the login screen', async () => {
      const res = await get(publicParams()).expect(303);
      const url = new URL(res.headers.location!);
      assert.equal(url.origin, ISSUER);
      assert.equal(url.pathname, '/login');
      assert.ok(url.searchParams.get('interaction'));
    });
  });

  describe('prompt=none', () => {
    it('redirects login_required when nobody is signed in', async () => {
      assertErrorRedirect(await get(confidentialParams({ prompt: 'none' })), 'login_required');
    });

    it('redirects consent_required when signed in but the explicit client was never approved, then a code once it was', async () => {
      const agent = browser(h);
      const signedIn = await authorize(agent, publicParams());
      assert.ok(signedIn.searchParams.get('code'));

      assertErrorRedirect(await agent.get(authorizeQuery(confidentialParams({ prompt: 'none' }))), 'consent_required');

      assert.ok((await authorize(agent, confidentialParams())).searchParams.get('code'));
      const res = await agent.get(authorizeQuery(confidentialParams({ prompt: 'none' }))).expect(303);
      const url = new URL(res.headers.location!);
      assert.equal(`${url.origin}${url.pathname}`, CB);
      assert.ok(url.searchParams.get('code'));
      assert.equal(url.searchParams.get('error'), null);
    });
  });

  describe('POST', () => {
    const post = (body: string | Record<string, string | undefined>) => request(h.app).post('/oauth2/authorize').type('form').send(body);

    it('validates a form post and sends the browser to the GET form with the same parameters', async () => {
      const params = confidentialParams({ prompt: 'login', max_age: '300', login_hint: 'alice' });
      const res = await post(params).expect(303);
      const url = new URL(res.headers.location!);
      assert.equal(`${url.origin}${url.pathname}`, `${ISSUER}/oauth2/authorize`);
      assert.deepEqual(Object.fromEntries(url.searchParams), params);

      const next = await browser(h)
        .get(url.pathname + url.search)
        .expect(303);
      assert.equal(new URL(next.headers.location!).pathname, '/login');
    });

    it('shows an error page for an unknown client or unregistered redirect_uri', async () => {
      assertErrorPage(await post(confidentialParams({ client_id: 'nobody' })));
      assertErrorPage(await post(confidentialParams({ redirect_uri: `${CB}/extra` })));
      assertErrorPage(await post(`${new URLSearchParams(confidentialParams())}&client_id=grafana`));
    });

    it('redirects errors once the target is trusted', async () => {
      assertErrorRedirect(await post(confidentialParams({ scope: 'profile' })), 'invalid_scope');
      assertErrorRedirect(await post(confidentialParams({ response_type: 'token' })), 'unsupported_response_type');
      assertErrorRedirect(await post(`${new URLSearchParams(confidentialParams())}&scope=openid`), 'invalid_request');
    });
  });

  describe('authorization response', () => {
    it('carries code, state and iss', async () => {
      const url = await authorize(browser(h), confidentialParams());
      assert.equal(`${url.origin}${url.pathname}`, CB);
      assert.match(url.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{40,}$/);
      assert.equal(url.searchParams.get('state'), 'state-123');
      assert.equal(url.searchParams.get('iss'), ISSUER);
    });

    it('carries no state when the request had none', async () => {
      const url = await authorize(browser(h), confidentialParams({ state: undefined }));
      assert.ok(url.searchParams.get('code'));
      assert.equal(url.searchParams.has('state'), false);
    });

    it("keeps the redirect_uri's own query parameters, on success and on error", async () => {
      const uri = 'http://127.0.0.1:8000/cb?tenant=acme&lang=en&q=a%20b';
      const q = await harness({
        clients: [{ client_id: 'q', client_secret: 'q'.repeat(32), name: 'Q', redirect_uris: [uri], consent: 'implicit' }],
      });
      try {
        const ok = await authorize(browser(q), confidentialParams({ client_id: 'q', redirect_uri: uri }));
        assert.equal(ok.searchParams.get('tenant'), 'acme');
        assert.equal(ok.searchParams.get('lang'), 'en');
        assert.ok(ok.searchParams.get('code'));
        assert.ok(ok.href.startsWith(`${uri}&`), `the registered query is kept byte for byte: ${ok.href}`);

        const res = await request(q.app)
          .get(authorizeQuery(confidentialParams({ client_id: 'q', redirect_uri: uri, scope: 'email' })))
          .expect(303);
        const err = new URL(res.headers.location!);
        assert.equal(err.searchParams.get('tenant'), 'acme');
        assert.equal(err.searchParams.get('error'), 'invalid_scope');
      } finally {
        await q.close();
      }
    });
  });

  describe('security headers', () => {
    for (const [what, params] of [
      ['a redirect', confidentialParams()],
      ['an error page', confidentialParams({ client_id: 'nobody' })],
    ] as const) {
      it(`sends no-referrer, a CSP, nosniff and no-store on ${what}`, async () => {
        const res = await get(params);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/);
        assert.match(res.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      });
    }
  });
});

describe('authorization endpoint rate limit', () => {
  it('answers 429 in plain text past the per-IP limit, while /api answers its JSON error', async () => {
    const h = await harness({ rateLimit: { api: 1, windowSeconds: 60 } });
    try {
      await request(h.app).get(authorizeQuery(confidentialParams())).expect(303);
      const res = await request(h.app).get(authorizeQuery(confidentialParams())).expect(429);
      assert.equal(res.text, 'Too many requests. Retry later.');
      assert.ok(res.headers['retry-after']);
      const api = await request(h.app).get('/api/no-such-endpoint').expect(429);
      assert.equal(api.body.error.code, 'rate_limited');
    } finally {
      await h.close();
    }
  });
});
