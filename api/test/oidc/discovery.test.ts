import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DiscoveryDocument } from '@gatehouse/shared';
import { ISSUER, harness, type Harness } from '../helpers/harness.js';

describe('discovery, JWKS and health', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('publishes provider metadata that names only what is implemented', async () => {
    const res = await request(h.app).get('/.well-known/openid-configuration').expect(200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const doc = DiscoveryDocument.parse(res.body);
    assert.equal(doc.issuer, ISSUER);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(doc.grant_types_supported, ['authorization_code', 'refresh_token']);
    assert.equal(doc.request_uri_parameter_supported, false);
    assert.equal(res.body.end_session_endpoint, undefined);
    assert.equal(res.body.revocation_endpoint, undefined);
  });

  it('serves every advertised endpoint at its advertised path', async () => {
    const doc = DiscoveryDocument.parse((await request(h.app).get('/.well-known/openid-configuration')).body);
    const path = (url: string) => url.slice(ISSUER.length);
    await request(h.app).get(path(doc.jwks_uri)).expect(200);
    await request(h.app).get(path(doc.authorization_endpoint)).expect(400).expect('content-type', /html/);
    const token = await request(h.app).post(path(doc.token_endpoint)).type('form').send({}).expect(401);
    assert.equal(token.body.error, 'invalid_client');
    await request(h.app).get(path(doc.userinfo_endpoint)).expect(401);
  });

  it('publishes an RS256 and an ES256 public key, each with a kid and no private part', async () => {
    const res = await request(h.app).get('/oauth2/jwks').expect(200).expect('content-type', /application\/jwk-set\+json/);
    const keys = res.body.keys as Record<string, unknown>[];
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const key of keys) {
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.use, 'sig');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[secret], undefined, `${secret} leaked`);
    }
  });

  it('keeps the same keys across restarts and seals private keys at rest', async () => {
    const before = h.ctx.keys.jwksJson;
    const stored = await h.ctx.storage.keys.list();
    for (const k of stored) assert.doesNotMatch(k.sealedPrivateJwk, /"d"/);
    await h.close(true);
    h = await harness({}, h.dataDir);
    assert.equal(h.ctx.keys.jwksJson, before);
  });

  it('answers liveness and readiness', async () => {
    await request(h.app).get('/healthz').expect(200, { status: 'ok' });
    await request(h.app).get('/readyz').expect(200, { status: 'ready' });
  });

  it('reports not ready when the database is gone', async () => {
    const other = await harness();
    await other.ctx.close();
    await request(other.app).get('/readyz').expect(503, { status: 'unavailable' });
  });

  it('answers unknown paths with 404 and unknown API paths with the API error shape', async () => {
    await request(h.app).get('/nope').expect(404);
    const res = await request(h.app).get('/api/v1/nope').expect(404);
    assert.equal(res.body.error.code, 'not_found');
  });
});

describe('start-up', () => {
  it('replaces configured clients from configuration and leaves CLI clients alone', async () => {
    const h = await harness();
    try {
      await h.ctx.storage.clients.insert(
        {
          id: 'local-app',
          secretHash: null,
          name: 'Local',
          type: 'public',
          redirectUris: ['http://127.0.0.1:1/cb'],
          postLogoutRedirectUris: [],
          consent: 'implicit',
          scopes: ['openid'],
          grantTypes: ['authorization_code'],
          tokenEndpointAuthMethod: 'none',
          idTokenAlg: 'RS256',
          source: 'local',
        },
        h.clock.now(),
      );
      await h.close(true);
      const again = await harness({ clients: [{ client_id: 'cli', name: 'Renamed', type: 'public', redirect_uris: ['http://127.0.0.1:9000/callback'] }] }, h.dataDir);
      const ids = (await again.ctx.storage.clients.list()).map((c) => `${c.id}:${c.name}`);
      assert.deepEqual(ids, ['cli:Renamed', 'local-app:Local']);
      await again.close();
    } finally {
      await h.close().catch(() => {});
    }
  });

  it('creates the first admin only in an empty database', async () => {
    const h = await harness();
    try {
      const admin = await h.ctx.storage.users.findByLogin('admin');
      assert.equal(admin?.isAdmin, true);
      const ok = await h.ctx.identity.authenticate('admin', 'admin-password-123');
      assert.equal(ok.ok, true);
      assert.ok(h.audit.some((l) => l.includes('event=user_create') && l.includes('by=bootstrap')));
      assert.ok(h.audit.every((l) => !l.includes('admin-password-123')));
    } finally {
      await h.close();
    }
  });
});
