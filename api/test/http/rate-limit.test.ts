import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { csrf, harness } from '../helpers/harness.js';

describe('per-IP rate limits', () => {
  it('shows both budgets on a sign-in call, which counts against the API budget and the sign-in budget', async () => {
    const h = await harness({ rateLimit: { api: 50, login: 7, windowSeconds: 60 } });
    try {
      const res = await request(h.app)
        .post('/api/v1/session')
        .set(csrf)
        .send({ username: 'alice', password: 'wrong-password' })
        .expect(401);
      const policy = String(res.headers['ratelimit-policy']);
      assert.match(policy, /q=50;/);
      assert.match(policy, /q=7;/);
      assert.match(String(res.headers['ratelimit']), /r=49;.*r=6;|r=6;.*r=49;/);
    } finally {
      await h.close();
    }
  });

  it('shares one budget between the authorization endpoint, end-session and the JSON API', async () => {
    const h = await harness({ rateLimit: { api: 2, windowSeconds: 60 } });
    try {
      await request(h.app).get('/oauth2/end_session').expect(303);
      await request(h.app).get('/api/v1/capabilities').expect(200);
      const res = await request(h.app).get('/oauth2/authorize?client_id=grafana').expect(429);
      assert.equal(res.text, 'Too many requests. Retry later.');
    } finally {
      await h.close();
    }
  });
});
