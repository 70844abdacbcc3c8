import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { TokenResponse } from '@gatehouse/shared';
import { atHash } from '../../src/oidc/tokens/id-token.js';
import {
  ISSUER,
  SECRET,
  authorize,
  basic,
  browser,
  confidentialParams,
  harness,
  pkce,
  redeem,
  type Harness,
  ALICE_ID,
} from '../helpers/harness.js';

describe('token endpoint: authorization_code grant', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  async function code(extra: Record<string, string | undefined> = {}): Promise<string> {
    const url = await authorize(browser(h), confidentialParams(extra));
    const value = url.searchParams.get('code');
    assert.ok(value, `expected a code, got ${url}`);
    return value;
  }

  it('exchanges a code for an ID token, a JWT access token and a refresh token', async () => {
    const res = await redeem(h, await code()).expect(200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = TokenResponse.parse(res.body);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'openid profile email groups');
    assert.ok(body.refresh_token);

    const jwks = createLocalJWKSet(JSON.parse(h.ctx.keys.jwksJson));
    const now = new Date(h.clock.now() * 1000);
    const id = await jwtVerify(body.id_token!, jwks, { issuer: ISSUER, audience: 'grafana', currentDate: now });
    assert.equal(id.protectedHeader.alg, 'RS256');
    assert.ok(id.protectedHeader.kid);
    assert.equal(id.payload.sub, ALICE_ID);
    assert.equal(id.payload.nonce, 'nonce-456');
    assert.equal(id.payload.at_hash, atHash(body.access_token));
    assert.deepEqual(id.payload.amr, ['pwd']);
    assert.equal(typeof id.payload.auth_time, 'number');
    assert.equal(typeof id.payload.sid, 'string');
    assert.equal(id.payload.email, 'alice@example.org');
    assert.deepEqual(id.payload.groups, ['ops', 'staff']);

    const at = await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', currentDate: now });
    assert.equal(at.payload.client_id, 'grafana');
    assert.equal(at.payload.scope, 'openid profile email groups');
    assert.ok(at.payload.jti);
  });

  it('signs with ES256 for a client registered for it', async () => {
    const es = await harness({
      clients: [
        {
          client_id: 'es',
          client_secret: SECRET,
          name: 'ES',
          redirect_uris: ['http://127.0.0.1:8000/cb'],
          consent: 'implicit',
          id_token_signed_response_alg: 'ES256',
        },
      ],
    });
    try {
      const url = await authorize(browser(es), confidentialParams({ client_id: 'es' }));
      const res = await request(es.app)
        .post('/oauth2/token')
        .set('Authorization', basic('es', SECRET))
        .type('form')
        .send({ grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:8000/cb' })
        .expect(200);
      const jwks = createLocalJWKSet(JSON.parse(es.ctx.keys.jwksJson));
      const id = await jwtVerify(res.body.id_token, jwks, { currentDate: new Date(es.clock.now() * 1000) });
      assert.equal(id.protectedHeader.alg, 'ES256');
    } finally {
      await es.close();
    }
  });

  it('refuses a second redemption and revokes the tokens issued from the code', async () => {
    const c = await code();
    const first = await redeem(h, c).expect(200);
    const second = await redeem(h, c).expect(400);
    assert.equal(second.body.error, 'invalid_grant');
    await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${first.body.access_token}`).expect(401);
    const refreshed = await request(h.app)
      .post('/oauth2/token')
      .set('Authorization', basic('grafana', SECRET))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token })
      .expect(400);
    assert.equal(refreshed.body.error, 'invalid_grant');
    assert.ok(h.audit.some((l) => l.includes('event=code_reuse')));
  });

  it('refuses a code issued to another client', async () => {
    const c = await code();
    const res = await request(h.app)
      .post('/oauth2/token')
      .type('form')
      .send({
        grant_type: 'authorization_code',
        code: c,
        redirect_uri: 'http://127.0.0.1:9000/callback',
        client_id: 'cli',
        code_verifier: pkce().verifier,
      })
      .expect(400);
    assert.equal(res.body.error, 'invalid_grant');
    await redeem(h, c).expect(200);
  });

  it('refuses a redirect_uri other than the one the code was issued for', async () => {
    const res = await redeem(h, await code(), { redirect_uri: 'https://grafana.example.org/login/generic_oauth' }).expect(400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('refuses a missing or wrong code_verifier when a challenge was sent', async () => {
    const { challenge } = pkce();
    const missing = await redeem(h, await code({ code_challenge: challenge, code_challenge_method: 'S256' })).expect(400);
    assert.equal(missing.body.error, 'invalid_grant');
    const wrong = await redeem(h, await code({ code_challenge: challenge, code_challenge_method: 'S256' }), {
      code_verifier: pkce().verifier,
    }).expect(400);
    assert.equal(wrong.body.error, 'invalid_grant');
  });

  it('accepts the right code_verifier for a confidential client', async () => {
    const { challenge, verifier } = pkce();
    await redeem(h, await code({ code_challenge: challenge, code_challenge_method: 'S256' }), { code_verifier: verifier }).expect(200);
  });

  it('refuses a code_verifier when the request had no challenge (PKCE downgrade)', async () => {
    const res = await redeem(h, await code(), { code_verifier: pkce().verifier }).expect(400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('refuses an expired code', async () => {
    const c = await code();
    h.clock.advance(h.ctx.config.ttl.code + 1);
    const res = await redeem(h, c).expect(400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('refuses an unknown code', async () => {
    const res = await redeem(h, 'not-a-code').expect(400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('leaves the code unspent when storing the refresh token fails, so the retry succeeds and revokes nothing', async () => {
    const c = await code();
    const from = h.audit.length;
    // A failure between spending the code and storing the tokens, from another connection.
    const db = new Database(path.join(h.dataDir, 'gatehouse.db'));
    db.exec("CREATE TRIGGER fail_refresh BEFORE INSERT ON refresh_tokens BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    try {
      const failed = await redeem(h, c).expect(500);
      assert.equal(failed.body.error, 'server_error');
    } finally {
      db.exec('DROP TRIGGER fail_refresh');
      db.close();
    }
    const retry = TokenResponse.parse((await redeem(h, c).expect(200)).body);
    await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${retry.access_token}`).expect(200);
    await request(h.app)
      .post('/oauth2/token')
      .set('Authorization', basic('grafana', SECRET))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: retry.refresh_token! })
      .expect(200);
    assert.ok(!h.audit.slice(from).some((l) => l.includes('event=code_reuse')));
    // Spent now: a third redemption is a reuse, as ever.
    assert.equal((await redeem(h, c).expect(400)).body.error, 'invalid_grant');
  });

  it('carries no nonce when the request had none', async () => {
    const res = await redeem(h, await code({ nonce: undefined })).expect(200);
    assert.equal(decodeJwt(res.body.id_token).nonce, undefined);
  });
});
