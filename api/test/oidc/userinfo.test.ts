import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { SignJWT, UnsecuredJWT, decodeJwt, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { OAuthErrorBody, TokenResponse, UserinfoClaims } from '@gatehouse/shared';
import { setDisabled } from '../helpers/directory.js';
import { ISSUER, authorize, browser, confidentialParams, harness, redeem, type Harness, ALICE_ID } from '../helpers/harness.js';

const REALM = `Bearer realm="${ISSUER}"`;

describe('userinfo endpoint', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  async function tokens(scope = 'openid profile email groups'): Promise<TokenResponse> {
    const url = await authorize(browser(h), confidentialParams({ scope }));
    const res = await redeem(h, url.searchParams.get('code')!).expect(200);
    return TokenResponse.parse(res.body);
  }

  const get = (accessToken: string) => request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${accessToken}`);
  const post = (accessToken: string) => request(h.app).post('/oauth2/userinfo').set('Authorization', `Bearer ${accessToken}`);

  /** RFC 6750 §3: 401, a challenge naming invalid_token, the error body, and no caching. */
  function assertInvalidToken(res: request.Response): void {
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.ok(res.headers['www-authenticate']?.startsWith(`${REALM}, error="invalid_token"`), res.headers['www-authenticate']);
    assert.equal(OAuthErrorBody.parse(res.body).error, 'invalid_token');
  }

  /** RFC 6750 §3.1: a request without authentication gets a challenge with no error code. */
  function assertNoToken(res: request.Response): void {
    assert.equal(res.status, 401);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['www-authenticate'], REALM);
    assert.equal(res.text, '');
  }

  const alice = async () => (await h.ctx.identity.findAccount(ALICE_ID))!;

  const scopes: { scope: string; claims: (updatedAt: number) => UserinfoClaims }[] = [
    { scope: 'openid', claims: () => ({ sub: ALICE_ID }) },
    { scope: 'openid email', claims: () => ({ sub: ALICE_ID, email: 'alice@example.org', email_verified: true }) },
    {
      scope: 'openid profile email groups',
      claims: (updatedAt) => ({
        sub: ALICE_ID,
        name: 'Alice Liddell',
        preferred_username: 'alice',
        updated_at: updatedAt,
        email: 'alice@example.org',
        email_verified: true,
        groups: ['ops', 'staff'],
      }),
    },
  ];
  for (const { scope, claims } of scopes) {
    it(`releases exactly the claims of scope "${scope}" on GET and POST`, async () => {
      const { access_token } = await tokens(scope);
      const expected = claims((await alice()).updatedAt);
      for (const send of [get, post]) {
        const res = await send(access_token).expect(200);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.deepEqual(UserinfoClaims.parse(res.body), expected);
      }
    });
  }

  it('accepts the access token in a POST form body', async () => {
    const { access_token } = await tokens('openid');
    const res = await request(h.app).post('/oauth2/userinfo').type('form').send({ access_token }).expect(200);
    assert.deepEqual(UserinfoClaims.parse(res.body), { sub: ALICE_ID });
  });

  it('refuses an access token in both the header and the body', async () => {
    const { access_token } = await tokens('openid');
    const res = await post(access_token).type('form').send({ access_token }).expect(400);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(OAuthErrorBody.parse(res.body).error, 'invalid_request');
  });

  it('challenges a request without a token, with no error code', async () => {
    assertNoToken(await request(h.app).get('/oauth2/userinfo'));
    assertNoToken(await request(h.app).post('/oauth2/userinfo'));
  });

  it('ignores an access token in the query string', async () => {
    const { access_token } = await tokens('openid');
    assertNoToken(await request(h.app).get(`/oauth2/userinfo?access_token=${access_token}`));
    assertNoToken(await request(h.app).post(`/oauth2/userinfo?access_token=${access_token}`));
  });

  /** A token with the claims of a real one, re-signed as told. */
  async function resigned(header: { typ: string; kid?: string }, key?: CryptoKey): Promise<string> {
    const real = (await tokens('openid')).access_token;
    const signer = h.ctx.keys.signer('RS256');
    return new SignJWT(decodeJwt(real) as JWTPayload)
      .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? signer.kid, typ: header.typ })
      .sign(key ?? signer.privateKey);
  }

  const rejected: { name: string; token: () => Promise<string> }[] = [
    { name: 'a string that is not a JWT', token: async () => 'not-a-token' },
    {
      name: 'an expired token',
      token: async () => {
        const { access_token } = await tokens('openid');
        h.clock.advance(h.ctx.config.ttl.accessToken + 1);
        return access_token;
      },
    },
    {
      name: "a token signed by a key Gatehouse never had, under Gatehouse's kid",
      token: async () => resigned({ typ: 'at+jwt' }, (await generateKeyPair('RS256')).privateKey),
    },
    {
      name: 'a token signed by a key Gatehouse never had, under its own kid',
      token: async () => resigned({ typ: 'at+jwt', kid: 'foreign' }, (await generateKeyPair('RS256')).privateKey),
    },
    { name: 'a token with typ JWT instead of at+jwt', token: () => resigned({ typ: 'JWT' }) },
    {
      name: 'an unsigned token (alg none)',
      token: async () => new UnsecuredJWT(decodeJwt((await tokens('openid')).access_token)).encode(),
    },
    { name: 'an ID token', token: async () => (await tokens('openid')).id_token! },
  ];
  for (const { name, token } of rejected) {
    it(`refuses ${name} as invalid_token`, async () => {
      const t = await token();
      assertInvalidToken(await get(t));
      assertInvalidToken(await post(t));
    });
  }

  it('accepts a token re-signed with its own key and typ, so the refusals above are for their one difference', async () => {
    await get(await resigned({ typ: 'at+jwt' })).expect(200);
  });

  it('refuses a token it accepted before, once its grant is revoked', async () => {
    const { access_token } = await tokens('openid');
    await get(access_token).expect(200);
    await get(access_token).expect(200);
    await h.ctx.storage.grants.revoke((decodeJwt(access_token) as { gid: string }).gid, h.clock.now());
    assertInvalidToken(await get(access_token));
    assertInvalidToken(await post(access_token));
  });

  it('refuses a token it accepted before, from the second its exp is reached', async () => {
    const { access_token } = await tokens('openid');
    const { exp } = decodeJwt(access_token);
    await get(access_token).expect(200);
    h.clock.advance(exp! - 1 - h.clock.now());
    await get(access_token).expect(200);
    h.clock.advance(1);
    assertInvalidToken(await get(access_token));
  });

  it('refuses a token that another Gatehouse (other keys, same issuer) accepted', async () => {
    const other = await harness();
    try {
      const url = await authorize(browser(other), confidentialParams({ scope: 'openid' }));
      const { access_token } = TokenResponse.parse((await redeem(other, url.searchParams.get('code')!).expect(200)).body);
      await request(other.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${access_token}`).expect(200);
      assertInvalidToken(await get(access_token));
    } finally {
      await other.close();
    }
  });

  it('refuses the token of a user disabled after it was issued', async () => {
    const { access_token } = await tokens('openid');
    await get(access_token).expect(200);
    await setDisabled(h, ALICE_ID, true);
    try {
      assertInvalidToken(await get(access_token));
    } finally {
      await setDisabled(h, ALICE_ID, false);
    }
  });
});
