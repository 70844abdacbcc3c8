import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { OAuthErrorBody } from '@gatehouse/shared';
import { SECRET, authorize, basic, browser, confidentialParams, harness, redeem, refreshWith, type Harness } from '../helpers/harness.js';

const revoke = (h: Harness, token: string, auth = basic('grafana', SECRET)) =>
  request(h.app).post('/oauth2/revoke').set('Authorization', auth).type('form').send({ token });

async function tokens(h: Harness) {
  const url = await authorize(browser(h), confidentialParams({ scope: 'openid offline_access' }));
  return (await redeem(h, url.searchParams.get('code')!).expect(200)).body as { access_token: string; refresh_token: string };
}

describe('token revocation (RFC 7009)', () => {
  it('revokes a refresh token and the access tokens of its grant', async () => {
    const h = await harness();
    try {
      const t = await tokens(h);
      await revoke(h, t.refresh_token).expect(200);
      assert.equal((await refreshWith(h, t.refresh_token).expect(400)).body.error, 'invalid_grant');
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${t.access_token}`).expect(401);
      assert.ok(h.audit.some((l) => l.includes('event=token_revoked_by_client') && l.includes('client=grafana')));
    } finally {
      await h.close();
    }
  });

  it('revokes an access token and the refresh tokens of its grant', async () => {
    const h = await harness();
    try {
      const t = await tokens(h);
      await revoke(h, t.access_token).expect(200);
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${t.access_token}`).expect(401);
      await refreshWith(h, t.refresh_token).expect(400);
    } finally {
      await h.close();
    }
  });

  it('answers 200 for unknown tokens and for tokens of another client, and revokes nothing then', async () => {
    const h = await harness({
      clients: [
        { client_id: 'grafana', client_secret: SECRET, name: 'Grafana', redirect_uris: ['http://127.0.0.1:8000/cb'], consent: 'implicit' },
        { client_id: 'other', client_secret: SECRET, name: 'Other', redirect_uris: ['http://127.0.0.1:8000/cb'], consent: 'implicit' },
      ],
    });
    try {
      const t = await tokens(h);
      await revoke(h, 'no-such-token').expect(200);
      await revoke(h, t.refresh_token, basic('other', SECRET)).expect(200);
      await revoke(h, t.access_token, basic('other', SECRET)).expect(200);
      await refreshWith(h, t.refresh_token).expect(200);
    } finally {
      await h.close();
    }
  });

  it('needs client authentication and a token, and uses the RFC 6749 error shape', async () => {
    const h = await harness();
    try {
      const t = await tokens(h);
      const wrong = await revoke(h, t.refresh_token, basic('grafana', 'wrong-secret-0123456789012345678901234')).expect(401);
      assert.equal(OAuthErrorBody.parse(wrong.body).error, 'invalid_client');
      assert.match(wrong.headers['www-authenticate'] ?? '', /^Basic/);
      const none = await request(h.app).post('/oauth2/revoke').type('form').send({ token: t.refresh_token }).expect(401);
      assert.equal(none.body.error, 'invalid_client');
      const missing = await request(h.app)
        .post('/oauth2/revoke')
        .set('Authorization', basic('grafana', SECRET))
        .type('form')
        .send({})
        .expect(400);
      assert.equal(missing.body.error, 'invalid_request');
      await request(h.app).post('/oauth2/revoke').set('Authorization', basic('grafana', SECRET)).send({ token: 'x' }).expect(400);
      await refreshWith(h, t.refresh_token).expect(200);
    } finally {
      await h.close();
    }
  });

  it('is advertised in discovery', async () => {
    const h = await harness();
    try {
      const doc = (await request(h.app).get('/.well-known/openid-configuration')).body;
      assert.equal(doc.revocation_endpoint, 'http://localhost:4000/oauth2/revoke');
    } finally {
      await h.close();
    }
  });
});
