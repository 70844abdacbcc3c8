import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { TokenResponse } from '@gatehouse/shared';
import { atHash } from '../../src/oidc/tokens/id-token.js';
import { ISSUER, authorize, browser, confidentialParams, harness, redeem, refreshWith, type Harness } from '../helpers/harness.js';

describe('token endpoint: refresh_token grant', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  /** A code flow as grafana on a new browser (so a new session), redeemed. */
  async function tokens(scope = 'openid profile email groups'): Promise<TokenResponse> {
    const url = await authorize(browser(h), confidentialParams({ scope }));
    const res = await redeem(h, url.searchParams.get('code')!).expect(200);
    return TokenResponse.parse(res.body);
  }

  async function refreshed(refreshToken: string, extra: Record<string, string> = {}): Promise<TokenResponse> {
    const res = await refreshWith(h, refreshToken, extra);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers['cache-control'], 'no-store');
    return TokenResponse.parse(res.body);
  }

  async function refused(refreshToken: string, error: string, extra: Record<string, string> = {}): Promise<void> {
    const res = await refreshWith(h, refreshToken, extra);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, error);
  }

  const userinfo = (accessToken: string) => request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${accessToken}`);

  async function idToken(jwt: string) {
    const jwks = createLocalJWKSet(JSON.parse(h.ctx.keys.jwksJson));
    return (await jwtVerify(jwt, jwks, { issuer: ISSUER, audience: 'grafana', currentDate: new Date(h.clock.now() * 1000) })).payload;
  }

  it('returns new access, ID and refresh tokens, and the new refresh token works', async () => {
    const first = await tokens();
    h.clock.advance(60);
    const second = await refreshed(first.refresh_token!);
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.equal(second.scope, first.scope);
    await userinfo(second.access_token).expect(200);
    await refreshed(second.refresh_token);
  });

  it('keeps sub, aud, auth_time and sid in the new ID token, with a new iat and no nonce', async () => {
    const first = await tokens();
    h.clock.advance(60);
    const second = await refreshed(first.refresh_token!);
    const [before, after] = [await idToken(first.id_token!), await idToken(second.id_token!)];
    assert.equal(before.nonce, 'nonce-456');
    assert.equal(after.nonce, undefined);
    assert.equal(after.sub, before.sub);
    assert.deepEqual(after.aud, before.aud);
    assert.equal(after.auth_time, before.auth_time);
    assert.equal(after.sid, before.sid);
    assert.equal(after.iat, before.iat! + 60);
    assert.equal(after.at_hash, atHash(second.access_token));
  });

  it('revokes the whole family when a rotated refresh token is reused after the grace period', async () => {
    const first = await tokens();
    const second = await refreshed(first.refresh_token!);
    await userinfo(second.access_token).expect(200);
    h.clock.advance(h.ctx.config.ttl.refreshReuseGrace + 1);
    const from = h.audit.length;

    await refused(first.refresh_token!, 'invalid_grant');
    assert.ok(h.audit.slice(from).some((l) => /\bevent=refresh_reuse\b/.test(l) && /\bclient=grafana\b/.test(l)));
    await refused(second.refresh_token!, 'invalid_grant');
    await userinfo(second.access_token).expect(401);
  });

  it('accepts the same refresh token twice within the grace period and keeps the family valid', async () => {
    const first = await tokens();
    const tabA = await refreshed(first.refresh_token!);
    h.clock.advance(h.ctx.config.ttl.refreshReuseGrace - 1);
    const from = h.audit.length;
    const tabB = await refreshed(first.refresh_token!);
    assert.notEqual(tabA.refresh_token, tabB.refresh_token);
    assert.ok(!h.audit.slice(from).some((l) => l.includes('event=refresh_reuse')));

    h.clock.advance(h.ctx.config.ttl.refreshReuseGrace + 1);
    await userinfo(tabA.access_token).expect(200);
    await refreshed(tabA.refresh_token!);
    await refreshed(tabB.refresh_token!);
  });

  it('refuses a refresh token presented by another client, without spending it', async () => {
    const first = await tokens();
    const res = await request(h.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: 'cli' })
      .expect(400);
    assert.equal(res.body.error, 'invalid_grant');
    h.clock.advance(h.ctx.config.ttl.refreshReuseGrace + 1);
    await refreshed(first.refresh_token!);
  });

  it('leaves the refresh token unrotated when storing its successor fails, so a retry after the grace period succeeds', async () => {
    const first = await tokens();
    const from = h.audit.length;
    // A failure between retiring the presented token and storing the new one, from another connection.
    const db = new Database(path.join(h.dataDir, 'gatehouse.db'));
    db.exec("CREATE TRIGGER fail_refresh BEFORE INSERT ON refresh_tokens BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    try {
      assert.equal((await refreshWith(h, first.refresh_token!).expect(500)).body.error, 'server_error');
    } finally {
      db.exec('DROP TRIGGER fail_refresh');
      db.close();
    }
    h.clock.advance(h.ctx.config.ttl.refreshReuseGrace + 1);
    const second = await refreshed(first.refresh_token!);
    await userinfo(second.access_token).expect(200);
    await refreshed(second.refresh_token!);
    assert.ok(!h.audit.slice(from).some((l) => l.includes('event=refresh_reuse')));
  });

  it('refuses an unknown refresh token', async () => {
    await refused('not-a-refresh-token', 'invalid_grant');
  });

  it('refuses an expired refresh token even when the grant is offline', async () => {
    const first = await tokens('openid offline_access');
    h.clock.advance(h.ctx.config.ttl.refreshToken + 1);
    await refused(first.refresh_token!, 'invalid_grant');
  });

  it('narrows the scope when asked, in the tokens and at userinfo', async () => {
    const first = await tokens();
    const narrowed = await refreshed(first.refresh_token!, { scope: 'openid email' });
    assert.equal(narrowed.scope, 'openid email');
    assert.equal(decodeJwt(narrowed.access_token).scope, 'openid email');
    const id = await idToken(narrowed.id_token!);
    assert.equal(id.email, 'alice@example.org');
    assert.equal(id.name, undefined);
    assert.equal(id.groups, undefined);
    const claims = (await userinfo(narrowed.access_token).expect(200)).body;
    assert.deepEqual(Object.keys(claims).sort(), ['email', 'email_verified', 'sub']);
  });

  it('keeps the original scope on the refresh token issued by a narrowed refresh (RFC 6749 §6)', async () => {
    const first = await tokens();
    const narrowed = await refreshed(first.refresh_token!, { scope: 'openid email' });
    const again = await refreshed(narrowed.refresh_token!);
    assert.equal(again.scope, first.scope);
  });

  for (const scope of ['openid email groups', 'openid offline_access', 'email']) {
    it(`refuses scope "${scope}" beyond the grant (or without openid) as invalid_scope, without spending the token`, async () => {
      const first = await tokens('openid email');
      await refused(first.refresh_token!, 'invalid_scope', { scope });
      h.clock.advance(h.ctx.config.ttl.refreshReuseGrace + 1);
      await refreshed(first.refresh_token!);
    });
  }

  it('stops refreshing a grant without offline_access once its session idles out (OIDC Core §11)', async () => {
    const first = await tokens();
    h.clock.advance(h.ctx.config.ttl.sessionIdle - 1);
    const second = await refreshed(first.refresh_token!);
    h.clock.advance(2);
    await refused(second.refresh_token!, 'invalid_grant');
    await userinfo(second.access_token).expect(401);
  });

  it('keeps refreshing a grant with offline_access after its session idles out', async () => {
    const first = await tokens('openid email offline_access');
    h.clock.advance(h.ctx.config.ttl.sessionIdle + 1);
    const second = await refreshed(first.refresh_token!);
    assert.equal(second.scope, 'openid email offline_access');
    await userinfo(second.access_token).expect(200);
  });
});

describe('token endpoint: concurrent refreshes', () => {
  it('lets only one of two concurrent refreshes with the same token win when there is no grace period, and revokes the family', async () => {
    const h = await harness({ ttl: { refreshReuseGrace: 0 } });
    try {
      const url = await authorize(browser(h), confidentialParams({ scope: 'openid offline_access' }));
      const first = TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body);
      const results = await Promise.all([refreshWith(h, first.refresh_token!), refreshWith(h, first.refresh_token!)]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 400]);
      const winner = TokenResponse.parse(results.find((r) => r.status === 200)!.body);
      assert.equal(results.find((r) => r.status === 400)!.body.error, 'invalid_grant');
      // RFC 9700 §4.14.2: the reuse revokes the grant, so the winner's successor stops too.
      assert.equal((await refreshWith(h, winner.refresh_token!)).body.error, 'invalid_grant');
      assert.ok(h.audit.some((l) => l.includes('event=refresh_reuse')));
    } finally {
      await h.close();
    }
  });

  it('accepts both concurrent refreshes within the grace period and keeps the family valid', async () => {
    const h = await harness();
    try {
      const url = await authorize(browser(h), confidentialParams({ scope: 'openid offline_access' }));
      const first = TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body);
      const results = await Promise.all([refreshWith(h, first.refresh_token!), refreshWith(h, first.refresh_token!)]);
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200],
      );
      for (const r of results) await refreshWith(h, TokenResponse.parse(r.body).refresh_token!).expect(200);
    } finally {
      await h.close();
    }
  });
});
