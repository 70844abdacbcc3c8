import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DiscoveryDocument } from '@gatehouse/shared';
import { ISSUER, harness, itManagingUsers, type Harness } from '../helpers/harness.js';

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
    assert.equal(res.body.end_session_endpoint, `${ISSUER}/oauth2/end_session`);
    assert.equal(res.body.revocation_endpoint, `${ISSUER}/oauth2/revoke`);
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
    const res = await request(h.app)
      .get('/oauth2/jwks')
      .expect(200)
      .expect('content-type', /application\/jwk-set\+json/);
    const keys = res.body.keys as Record<string, unknown>[];
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const key of keys) {
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.use, 'sig');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[secret], undefined, `${secret} leaked`);
    }
  });

  it('sends the static documents with the same security headers as every other response', async () => {
    // /healthz goes through the Express application; the documents are answered before it.
    const express = await request(h.app).get('/healthz').expect(200);
    const security = Object.keys(express.headers).filter((k) =>
      /^(content-security|cross-origin|origin-agent|referrer|strict-transport|x-)/.test(k),
    );
    assert.ok(security.includes('content-security-policy') && security.includes('x-content-type-options'));
    assert.equal(express.headers['x-powered-by'], undefined);
    const documents = [
      ['/.well-known/openid-configuration', 'application/json; charset=utf-8'],
      ['/oauth2/jwks', 'application/jwk-set+json; charset=utf-8'],
    ] as const;
    for (const [path, type] of documents) {
      const res = await request(h.app).get(path).expect(200);
      for (const name of security) {
        if (name !== 'cross-origin-resource-policy') assert.equal(res.headers[name], express.headers[name], `${path}: ${name}`);
      }
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.equal(res.headers['cache-control'], 'public, max-age=300');
      assert.equal(res.headers['content-type'], type);
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)));
      assert.equal(res.headers.etag, undefined);

      const head = await request(h.app).head(path).expect(200);
      assert.equal(head.text, undefined);
      const { date: _d1, ...headHeaders } = head.headers;
      const { date: _d2, ...getHeaders } = res.headers;
      assert.deepEqual(headHeaders, getHeaders);
    }
    assert.equal((await request(h.app).get('/oauth2/jwks')).text, h.ctx.keys.jwksJson);
  });

  it('routes the static documents like Express: any case, optional trailing slash, query ignored; GET and HEAD only', async () => {
    for (const path of ['/oauth2/jwks/', '/OAuth2/JWKS', '/oauth2/jwks?x=1', '/.well-known/openid-configuration/?a=b']) {
      const res = await request(h.app).get(path).expect(200);
      assert.equal(res.headers['cache-control'], 'public, max-age=300', path);
    }
    await request(h.app).post('/oauth2/jwks').expect(404);
    await request(h.app).get('/oauth2/jwks/x').expect(404);
    await request(h.app).get('/oauth2/jwk').expect(404);
  });

  it('serves the static documents under the issuer path, with HSTS for an https issuer', async () => {
    const other = await harness({ issuer: 'https://id.example.org/gate' });
    try {
      const res = await request(other.app).get('/gate/.well-known/openid-configuration').expect(200);
      assert.equal(res.body.issuer, 'https://id.example.org/gate');
      assert.equal(res.body.jwks_uri, 'https://id.example.org/gate/oauth2/jwks');
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
      const jwks = await request(other.app).get('/gate/oauth2/jwks').expect(200);
      assert.equal(jwks.headers['strict-transport-security'], 'max-age=31536000');
      assert.equal(jwks.text, other.ctx.keys.jwksJson);
      await request(other.app).get('/.well-known/openid-configuration').expect(404);
      await request(other.app).get('/oauth2/jwks').expect(404);
    } finally {
      await other.close();
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
    await request(h.app).get('/oauth2/nope').expect(404);
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
          requireMfa: false,
          logoUri: null,
          allowedGroups: [],
          source: 'local',
        },
        h.clock.now(),
      );
      await h.close(true);
      const again = await harness(
        { clients: [{ client_id: 'cli', name: 'Renamed', type: 'public', redirect_uris: ['http://127.0.0.1:9000/callback'] }] },
        h.dataDir,
      );
      const ids = (await again.ctx.storage.clients.list()).map((c) => `${c.id}:${c.name}`);
      assert.deepEqual(ids, ['cli:Renamed', 'local-app:Local']);
      await again.close();
    } finally {
      await h.close().catch(() => {});
    }
  });

  itManagingUsers('creates the first admin only in an empty database', async () => {
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
