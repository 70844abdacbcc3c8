import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ApiErrorBody } from '@gatehouse/shared';
import { SECRET, authorize, browser, confidentialParams, csrf, harness, redeem, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

/** Every read endpoint of the REST API, and every write endpoint with a body it would accept. */
const READS = ['/api/v1/me', '/api/v1/me/sessions', '/api/v1/me/apps', '/api/v1/me/mfa', '/api/v1/me/tokens'];
const WRITES: { method: 'post' | 'patch' | 'delete'; path: string; body?: object; scope: string }[] = [
  { method: 'patch', path: '/api/v1/me', body: { nickname: 'n' }, scope: 'profile:write' },
  {
    method: 'post',
    path: '/api/v1/me/password',
    body: { currentPassword: 'x', newPassword: 'a-long-new-password' },
    scope: 'profile:write',
  },
  { method: 'delete', path: '/api/v1/me/sessions', scope: 'profile:write' },
  { method: 'delete', path: '/api/v1/me/apps/grafana', scope: 'profile:write' },
  { method: 'post', path: '/api/v1/me/mfa/totp', scope: 'profile:write' },
  { method: 'post', path: '/api/v1/me/tokens', body: { name: 'x', scopes: ['tokens'], expiresInDays: 1 }, scope: 'tokens' },
  { method: 'delete', path: '/api/v1/me/tokens/x', scope: 'tokens' },
];

async function credentials(h: Harness) {
  const agent = await portalBrowser(h);
  const pat = (scopes: string[]) =>
    agent
      .post('/api/v1/me/tokens')
      .set(csrf)
      .send({ name: scopes.join(','), scopes, expiresInDays: 1 })
      .then((r) => r.body.token as string);
  const url = await authorize(browser(h), confidentialParams({ scope: 'openid profile:read tokens' }));
  const accessToken = (await redeem(h, url.searchParams.get('code')!).expect(200)).body.access_token as string;
  return { agent, full: await pat(['profile:write', 'tokens']), readOnly: await pat(['profile:read']), accessToken };
}

describe('every REST endpoint with every way to authenticate', () => {
  const config = {
    clients: [
      {
        client_id: 'grafana',
        client_secret: SECRET,
        name: 'Grafana',
        redirect_uris: ['http://127.0.0.1:8000/cb'],
        consent: 'implicit' as const,
        scopes: ['openid', 'profile:read', 'tokens'],
      },
    ],
  };

  it('answers every read to the session, a personal token and an access token with the scope', async () => {
    const h = await harness(config);
    try {
      const { agent, full, accessToken } = await credentials(h);
      for (const path of READS) {
        await agent.get(path).expect(200);
        await request(h.app).get(path).set('Authorization', `Bearer ${full}`).expect(200);
        await request(h.app).get(path).set('Authorization', `Bearer ${accessToken}`).expect(200);
      }
    } finally {
      await h.close();
    }
  });

  it('refuses every write to a token without its scope, in the one error shape, and changes nothing', async () => {
    const h = await harness(config);
    try {
      const { agent, readOnly, accessToken } = await credentials(h);
      const before = (await agent.get('/api/v1/me').expect(200)).body;
      for (const w of WRITES) {
        for (const token of w.scope === 'tokens' ? [readOnly] : [readOnly, accessToken]) {
          const call = request(h.app)[w.method](w.path);
          const res = await call.set('Authorization', `Bearer ${token}`).send(w.body ?? {});
          assert.equal(res.status, 403, `${w.method} ${w.path}`);
          assert.equal(ApiErrorBody.parse(res.body).error.code, 'insufficient_scope');
        }
      }
      assert.deepEqual((await agent.get('/api/v1/me')).body, before);
      await agent.get('/api/v1/session').expect(200);
    } finally {
      await h.close();
    }
  });

  it('refuses every endpoint without credentials, and cookie writes without the CSRF header', async () => {
    const h = await harness(config);
    try {
      for (const path of READS) {
        const res = await request(h.app).get(path).expect(401);
        assert.equal(ApiErrorBody.parse(res.body).error.code, 'unauthenticated');
      }
      const agent = await portalBrowser(h);
      for (const w of WRITES) {
        const res = await agent[w.method](w.path)
          .set('Origin', 'http://localhost:4000')
          .send(w.body ?? {});
        assert.equal(res.status, 403, `${w.method} ${w.path}`);
        assert.equal(res.body.error.code, 'csrf_rejected');
      }
    } finally {
      await h.close();
    }
  });
});
