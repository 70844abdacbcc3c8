import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { OAuthErrorBody, TokenResponse } from '@gatehouse/shared';
import {
  CONFIDENTIAL,
  ISSUER,
  PUBLIC,
  SECRET,
  authorize,
  basic,
  browser,
  confidentialParams,
  harness,
  pkce,
  type Harness,
} from '../helpers/harness.js';

const REDIRECT = 'http://127.0.0.1:8000/cb';
const CLI_REDIRECT = 'http://127.0.0.1:9000/callback';
const POST_SECRET = 'post-client-secret-0123456789abcdef';
const ODD_ID = 'odd.client~1';
/** Every character here must be form-encoded in Basic credentials (RFC 6749 §2.3.1). */
const ODD_SECRET = 'a:b+c%d 100%25 & e=f/ü-0123456789abcdef';

/** RFC 6749 Appendix B: application/x-www-form-urlencoded, space as '+'. */
const formEncode = (s: string) => new URLSearchParams([['', s]]).toString().slice(1);
const rawBasic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** RFC 6749 §5.2: status, JSON error body with nothing else in it, and no caching. */
function assertOAuthError(res: request.Response, status: number, error: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = OAuthErrorBody.strict().parse(res.body);
  assert.equal(body.error, error);
  assert.ok(body.error_description);
}

describe('token endpoint: client authentication and request shape', () => {
  let h: Harness;
  before(async () => {
    h = await harness({
      clients: [
        CONFIDENTIAL,
        PUBLIC,
        {
          client_id: 'poster',
          client_secret: POST_SECRET,
          name: 'Poster',
          redirect_uris: [REDIRECT],
          consent: 'implicit',
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          client_id: 'no-refresh',
          client_secret: SECRET,
          name: 'No refresh',
          redirect_uris: [REDIRECT],
          consent: 'implicit',
          grant_types: ['authorization_code'],
        },
        { client_id: ODD_ID, client_secret: ODD_SECRET, name: 'Odd', redirect_uris: [REDIRECT], consent: 'implicit' },
      ],
    });
  });
  after(() => h.close());

  function token(form: Record<string, string> | string, authorization?: string) {
    const req = request(h.app).post('/oauth2/token');
    if (authorization) req.set('Authorization', authorization);
    return req.type('form').send(form);
  }

  async function code(params: Record<string, string | undefined>): Promise<string> {
    const url = await authorize(browser(h), params);
    const value = url.searchParams.get('code');
    assert.ok(value, `expected a code, got ${url}`);
    return value;
  }

  const exchange = (c: string, extra: Record<string, string> = {}) => ({
    grant_type: 'authorization_code',
    code: c,
    redirect_uri: REDIRECT,
    ...extra,
  });

  describe('confidential clients', () => {
    it('accepts client_secret_basic for a client registered for it', async () => {
      const res = await token(exchange(await code(confidentialParams())), basic('grafana', SECRET)).expect(200);
      assert.equal(TokenResponse.parse(res.body).token_type, 'Bearer');
    });

    it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
      const res = await token(exchange('some-code'), basic('grafana', 'wrong-secret'));
      assertOAuthError(res, 401, 'invalid_client');
      assert.equal(res.headers['www-authenticate'], `Basic realm="${ISSUER}"`);
    });

    it('refuses an unknown client, by Basic header or by client_id in the body', async () => {
      const byHeader = await token(exchange('some-code'), basic('nobody', SECRET));
      assertOAuthError(byHeader, 401, 'invalid_client');
      assert.match(byHeader.headers['www-authenticate'] ?? '', /^Basic /);
      assertOAuthError(await token(exchange('some-code', { client_id: 'nobody', client_secret: SECRET })), 401, 'invalid_client');
      assertOAuthError(await token(exchange('some-code', { client_id: 'nobody' })), 401, 'invalid_client');
    });

    it('refuses a request with no client authentication at all', async () => {
      assertOAuthError(await token(exchange('some-code')), 401, 'invalid_client');
    });

    it('refuses client_secret_post from a client registered for client_secret_basic', async () => {
      const c = await code(confidentialParams());
      assertOAuthError(await token(exchange(c, { client_id: 'grafana', client_secret: SECRET })), 401, 'invalid_client');
      await token(exchange(c), basic('grafana', SECRET)).expect(200);
    });

    it('accepts client_secret_post for a client registered for it, and refuses Basic from it', async () => {
      const c = await code(confidentialParams({ client_id: 'poster' }));
      assertOAuthError(await token(exchange(c), basic('poster', POST_SECRET)), 401, 'invalid_client');
      assertOAuthError(await token(exchange(c, { client_id: 'poster', client_secret: 'wrong-secret' })), 401, 'invalid_client');
      const res = await token(exchange(c, { client_id: 'poster', client_secret: POST_SECRET })).expect(200);
      TokenResponse.parse(res.body);
    });

    it('refuses a Basic header together with client_secret in the body', async () => {
      const res = await token(exchange('some-code', { client_id: 'grafana', client_secret: SECRET }), basic('grafana', SECRET));
      assertOAuthError(res, 400, 'invalid_request');
    });

    it('refuses a body client_id that differs from the Basic one, but accepts the same one', async () => {
      const c = await code(confidentialParams());
      assertOAuthError(await token(exchange(c, { client_id: 'cli' }), basic('grafana', SECRET)), 400, 'invalid_request');
      await token(exchange(c, { client_id: 'grafana' }), basic('grafana', SECRET)).expect(200);
    });

    it('form-decodes the client id and secret inside Basic credentials (RFC 6749 §2.3.1)', async () => {
      const c = await code(confidentialParams({ client_id: ODD_ID }));
      assertOAuthError(await token(exchange(c), rawBasic(ODD_ID, ODD_SECRET)), 401, 'invalid_client');
      const res = await token(exchange(c), rawBasic(formEncode(ODD_ID), formEncode(ODD_SECRET))).expect(200);
      TokenResponse.parse(res.body);
    });
  });

  describe('public clients', () => {
    const cliParams = (challenge: string) => ({
      client_id: 'cli',
      redirect_uri: CLI_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
    });
    const cliExchange = (c: string, extra: Record<string, string> = {}) => ({
      grant_type: 'authorization_code',
      code: c,
      redirect_uri: CLI_REDIRECT,
      client_id: 'cli',
      ...extra,
    });

    it('accepts none with a PKCE code_verifier', async () => {
      const { challenge, verifier } = pkce();
      const res = await token(cliExchange(await code(cliParams(challenge)), { code_verifier: verifier })).expect(200);
      assert.equal(TokenResponse.parse(res.body).scope, 'openid');
    });

    it('refuses a client_secret from a public client', async () => {
      const { challenge, verifier } = pkce();
      const c = await code(cliParams(challenge));
      assertOAuthError(await token(cliExchange(c, { code_verifier: verifier, client_secret: SECRET })), 401, 'invalid_client');
      assertOAuthError(await token(cliExchange(c, { code_verifier: verifier }), basic('cli', SECRET)), 401, 'invalid_client');
    });

    it("refuses the public client's code without its code_verifier", async () => {
      const c = await code(cliParams(pkce().challenge));
      assertOAuthError(await token(cliExchange(c)), 400, 'invalid_grant');
    });
  });

  describe('request shape', () => {
    const auth = basic('grafana', SECRET);
    const cases: { name: string; send: () => request.Test; status: number; error: string }[] = [
      {
        name: 'a missing grant_type',
        send: () => token({ code: 'c', redirect_uri: REDIRECT }, auth),
        status: 400,
        error: 'invalid_request',
      },
      {
        name: 'the password grant',
        send: () => token({ grant_type: 'password', username: 'alice', password: 'x' }, auth),
        status: 400,
        error: 'unsupported_grant_type',
      },
      {
        name: 'the client_credentials grant',
        send: () => token({ grant_type: 'client_credentials' }, auth),
        status: 400,
        error: 'unsupported_grant_type',
      },
      {
        name: 'a grant_type named like an Object property',
        send: () => token({ grant_type: 'constructor' }, auth),
        status: 400,
        error: 'unsupported_grant_type',
      },
      {
        name: 'refresh_token from a client registered without that grant',
        send: () => token({ grant_type: 'refresh_token', refresh_token: 'r' }, basic('no-refresh', SECRET)),
        status: 400,
        error: 'unauthorized_client',
      },
      {
        name: 'a JSON body',
        send: () =>
          request(h.app)
            .post('/oauth2/token')
            .set('Authorization', auth)
            .type('json')
            .send({ grant_type: 'authorization_code', code: 'c', redirect_uri: REDIRECT }),
        status: 400,
        error: 'invalid_request',
      },
      {
        name: 'a repeated parameter',
        send: () => token(`grant_type=authorization_code&code=a&code=b&redirect_uri=${encodeURIComponent(REDIRECT)}`, auth),
        status: 400,
        error: 'invalid_request',
      },
      {
        name: 'a body over the size limit',
        send: () => token({ grant_type: 'authorization_code', code: 'x'.repeat(20_000) }, auth),
        status: 400,
        error: 'invalid_request',
      },
      { name: 'GET', send: () => request(h.app).get('/oauth2/token'), status: 405, error: 'invalid_request' },
    ];
    for (const c of cases) {
      it(`answers ${c.name} with ${c.status} ${c.error}`, async () => {
        assertOAuthError(await c.send(), c.status, c.error);
      });
    }

    it('names POST as the only allowed method', async () => {
      const res = await request(h.app).get('/oauth2/token').expect(405);
      assert.equal(res.headers.allow, 'POST');
    });

    it('gives no refresh_token to a client registered without the refresh_token grant', async () => {
      const c = await code(confidentialParams({ client_id: 'no-refresh' }));
      const res = await token(exchange(c), basic('no-refresh', SECRET)).expect(200);
      const body = TokenResponse.parse(res.body);
      assert.ok(body.access_token);
      assert.equal(body.refresh_token, undefined);
    });

    it('answers a CORS preflight with 204 for any origin', async () => {
      const res = await request(h.app)
        .options('/oauth2/token')
        .set('Origin', 'https://spa.example.org')
        .set('Access-Control-Request-Method', 'POST')
        .expect(204);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.match(res.headers['access-control-allow-methods'] ?? '', /POST/);
    });
  });

  describe('audit', () => {
    it('writes a token_failure line for a wrong secret and never writes a secret', async () => {
      const wrongBasic = 'wrong-basic-secret-must-not-be-logged';
      const wrongPost = 'wrong-post-secret-must-not-be-logged';
      const from = h.audit.length;
      await token(exchange('some-code'), basic('grafana', wrongBasic)).expect(401);
      await token(exchange('some-code', { client_id: 'poster', client_secret: wrongPost })).expect(401);
      const failures = h.audit.slice(from).filter((l) => /\bevent=token_failure\b/.test(l) && /\berror=invalid_client\b/.test(l));
      assert.equal(failures.length, 2, h.audit.slice(from).join('\n'));
      assert.ok(failures.every((l) => /\boutcome=failure\b/.test(l)));
      assert.match(failures[0]!, /\bclient=grafana\b/, 'the client named in Basic credentials is recorded');
      assert.match(failures[1]!, /\bclient=poster\b/);
      assert.ok(h.audit.length > failures.length, 'successful exchanges were audited too');
      for (const secret of [wrongBasic, wrongPost, SECRET, POST_SECRET, ODD_SECRET, formEncode(ODD_SECRET)]) {
        assert.ok(
          h.audit.every((l) => !l.includes(secret)),
          `an audit line contains ${secret}`,
        );
      }
    });
  });
});
