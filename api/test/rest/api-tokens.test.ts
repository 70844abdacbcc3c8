import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ApiTokenList, CreatedApiToken } from '@gatehouse/shared';
import { sha256 } from '../../src/lib/hash.js';
import { authorize, browser, confidentialParams, csrf, harness, redeem, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const create = (agent: ReturnType<typeof browser>, body: object) => agent.post('/api/v1/me/tokens').set(csrf).send(body);
const bearer = (h: Harness, token: string) => ({
  get: (path: string) => request(h.app).get(path).set('Authorization', `Bearer ${token}`),
  post: (path: string, body: object) => request(h.app).post(path).set('Authorization', `Bearer ${token}`).send(body),
  delete: (path: string) => request(h.app).delete(path).set('Authorization', `Bearer ${token}`),
});

describe('personal API tokens', () => {
  it('creates a token shown once, with the gh_ prefix and 256 random bits, stored only as a hash', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const res = await create(agent, { name: 'ci', scopes: ['profile:read', 'tokens'], expiresInDays: 30 }).expect(201);
      const created = CreatedApiToken.parse(res.body);
      assert.match(created.token, /^gh_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.expiresAt - created.createdAt, 30 * 24 * 3600);
      assert.equal((await h.ctx.storage.apiTokens.findByHash(sha256(created.token)))?.id, created.id);
      const list = ApiTokenList.parse((await agent.get('/api/v1/me/tokens').expect(200)).body);
      assert.deepEqual(
        list.tokens.map((t) => t.id),
        [created.id],
      );
      assert.ok(!JSON.stringify(list).includes(created.token), 'the list never shows a token');
      assert.ok(h.audit.some((l) => l.includes('event=token_create')));
      assert.ok(
        h.audit.every((l) => !l.includes(created.token)),
        'the token is never logged',
      );
    } finally {
      await h.close();
    }
  });

  it('authenticates with the token and records its last use', async () => {
    const h = await harness();
    try {
      const { token, id } = (await create(await portalBrowser(h), { name: 't', scopes: ['tokens'], expiresInDays: 1 }).expect(201)).body;
      const list = await bearer(h, token).get('/api/v1/me/tokens').expect(200);
      assert.equal(list.body.tokens[0].id, id);
      assert.equal(list.body.tokens[0].lastUsedAt, h.clock.now());
    } finally {
      await h.close();
    }
  });

  it('checks scopes on every call: a profile:read token cannot manage tokens', async () => {
    const h = await harness();
    try {
      const { token } = (await create(await portalBrowser(h), { name: 'ro', scopes: ['profile:read'], expiresInDays: 1 }).expect(201)).body;
      const res = await bearer(h, token).get('/api/v1/me/tokens').expect(403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      assert.match(res.headers['www-authenticate'] ?? '', /error="insufficient_scope", scope="tokens"/);
      await bearer(h, token)
        .post('/api/v1/me/tokens', { name: 'x', scopes: ['profile:read'], expiresInDays: 1 })
        .expect(403);
    } finally {
      await h.close();
    }
  });

  it('never gives a token more than its owner holds', async () => {
    const h = await harness();
    try {
      const res = await create(await portalBrowser(h), { name: 'admin?', scopes: ['admin:write'], expiresInDays: 1 }).expect(403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      const admin = await portalBrowser(h, 'admin', 'admin-password-123');
      await create(admin, { name: 'ops', scopes: ['admin:write', 'audit:read'], expiresInDays: 1 }).expect(201);
      const { token } = (await create(admin, { name: 'narrow', scopes: ['tokens'], expiresInDays: 1 }).expect(201)).body;
      const escalate = await bearer(h, token)
        .post('/api/v1/me/tokens', { name: 'wide', scopes: ['admin:write'], expiresInDays: 1 })
        .expect(403);
      assert.equal(escalate.body.error.code, 'insufficient_scope', 'a token cannot mint a wider token');
    } finally {
      await h.close();
    }
  });

  it('requires an expiry within the configured maximum, a name and known scopes', async () => {
    const h = await harness({ apiTokenMaxDays: 90 });
    try {
      const agent = await portalBrowser(h);
      for (const body of [
        { name: 'no expiry', scopes: ['tokens'] },
        { name: 'too long', scopes: ['tokens'], expiresInDays: 91 },
        { name: '', scopes: ['tokens'], expiresInDays: 1 },
        { name: 'bad scope', scopes: ['root'], expiresInDays: 1 },
        { name: 'no scope', scopes: [], expiresInDays: 1 },
      ]) {
        const res = await create(agent, body).expect(400);
        assert.equal(res.body.error.code, 'validation_failed', JSON.stringify(body));
      }
      assert.deepEqual((await agent.get('/api/v1/me/tokens')).body.tokens, [], 'nothing was created');
    } finally {
      await h.close();
    }
  });

  it('refuses an expired or revoked token with 401 invalid_token', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const expiring = (await create(agent, { name: 'a', scopes: ['tokens'], expiresInDays: 1 }).expect(201)).body;
      const revoked = (await create(agent, { name: 'b', scopes: ['tokens'], expiresInDays: 30 }).expect(201)).body;
      await agent.delete(`/api/v1/me/tokens/${revoked.id}`).set(csrf).expect(204);
      const r = await bearer(h, revoked.token).get('/api/v1/me/tokens').expect(401);
      assert.equal(r.body.error.code, 'invalid_token');
      assert.match(r.headers['www-authenticate'] ?? '', /error="invalid_token"/);
      h.clock.advance(24 * 3600);
      await bearer(h, expiring.token).get('/api/v1/me/tokens').expect(401);
      assert.ok(h.audit.some((l) => l.includes('event=token_revoke')));
    } finally {
      await h.close();
    }
  });

  it('cannot act on another user: their token ids are unknown to you', async () => {
    const h = await harness();
    try {
      const admin = await portalBrowser(h, 'admin', 'admin-password-123');
      const theirs = (await create(admin, { name: 'x', scopes: ['tokens'], expiresInDays: 1 }).expect(201)).body;
      const alice = await portalBrowser(h);
      await alice.delete(`/api/v1/me/tokens/${theirs.id}`).set(csrf).expect(404);
      await bearer(h, theirs.token).get('/api/v1/me/tokens').expect(200);
    } finally {
      await h.close();
    }
  });

  it('refuses garbage, other schemes and missing credentials', async () => {
    const h = await harness();
    try {
      for (const value of ['Bearer nonsense', 'Bearer gh_nonsense', 'Basic YTpi']) {
        const res = await request(h.app).get('/api/v1/me/tokens').set('Authorization', value).expect(401);
        assert.equal(res.body.error.code, 'invalid_token', value);
      }
      const none = await request(h.app).get('/api/v1/me/tokens').expect(401);
      assert.equal(none.body.error.code, 'unauthenticated');
    } finally {
      await h.close();
    }
  });

  it('needs the CSRF defence for cookie-authenticated changes', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const res = await agent
        .post('/api/v1/me/tokens')
        .set('Origin', 'http://localhost:4000')
        .send({ name: 'x', scopes: ['tokens'], expiresInDays: 1 });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'csrf_rejected');
    } finally {
      await h.close();
    }
  });

  it('accepts a Gatehouse access token but only for the API scopes it carries', async () => {
    const h = await harness();
    try {
      const url = await authorize(browser(h), confidentialParams({ scope: 'openid profile' }));
      const { access_token } = (await redeem(h, url.searchParams.get('code')!).expect(200)).body;
      const res = await bearer(h, access_token).get('/api/v1/me/tokens').expect(403);
      assert.equal(res.body.error.code, 'insufficient_scope', 'OIDC scopes grant no API scope');
      await bearer(h, `${access_token}x`).get('/api/v1/me/tokens').expect(401);
    } finally {
      await h.close();
    }
  });
});
