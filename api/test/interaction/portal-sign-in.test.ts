import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { SignInResult } from '@gatehouse/shared';
import { PASSWORD, browser, confidentialParams, csrf, harness, startInteraction, ALICE_ID, BACKEND } from '../helpers/harness.js';

describe('signing in to Gatehouse itself (no application)', () => {
  it('signs in with username (in any case) or email and answers the session', async () => {
    const h = await harness();
    try {
      // OpenBao userpass logins are by name only (test/openbao/sign-in.test.ts).
      for (const login of ['alice', 'Alice', ...(BACKEND === 'sqlite' ? ['ALICE@example.org'] : [])]) {
        const agent = browser(h);
        const res = await agent.post('/api/v1/session').set(csrf).send({ username: login, password: PASSWORD }).expect(200);
        const result = SignInResult.parse(res.body);
        assert.equal(result.status, 'signed_in');
        assert.equal(result.status === 'signed_in' && result.session.user.username, 'alice');
        assert.match(String(res.headers['set-cookie']), /gatehouse_session=/);
        await agent.get('/api/v1/session').expect(200);
      }
      assert.ok(h.audit.some((l) => l.includes('event=login_success') && l.includes(`user=${ALICE_ID}`)));
    } finally {
      await h.close();
    }
  });

  it('answers a wrong password and an unknown user alike, and sets no cookie', async () => {
    const h = await harness();
    try {
      const wrong = await request(h.app).post('/api/v1/session').set(csrf).send({ username: 'alice', password: 'nope' }).expect(401);
      const unknown = await request(h.app).post('/api/v1/session').set(csrf).send({ username: 'mallory', password: 'nope' }).expect(401);
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.body.error.code, 'invalid_credentials');
      assert.equal(wrong.headers['set-cookie'], undefined);
    } finally {
      await h.close();
    }
  });

  it('refuses a sign-in without the CSRF header or from another origin', async () => {
    const h = await harness();
    try {
      const noHeader = await request(h.app)
        .post('/api/v1/session')
        .set('Origin', 'http://localhost:4000')
        .send({ username: 'alice', password: PASSWORD });
      assert.equal(noHeader.status, 403);
      assert.equal(noHeader.body.error.code, 'csrf_rejected');
      const foreign = await request(h.app)
        .post('/api/v1/session')
        .set({ ...csrf, Origin: 'https://evil.example' })
        .send({ username: 'alice', password: PASSWORD });
      assert.equal(foreign.status, 403);
      assert.equal(noHeader.headers['set-cookie'], undefined);
    } finally {
      await h.close();
    }
  });

  it('limits sign-in attempts per IP across the portal and authorization sign-in, with RateLimit headers', async () => {
    const h = await harness({ rateLimit: { login: 2 } });
    try {
      const agent = browser(h);
      await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: 'nope' }).expect(401);
      const { id } = await startInteraction(agent, confidentialParams());
      const second = await agent
        .post(`/api/v1/interactions/${id}/login`)
        .set(csrf)
        .send({ username: 'alice', password: 'nope' })
        .expect(401);
      assert.ok(second.headers['ratelimit'], 'standard RateLimit header');
      const third = await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(429);
      assert.equal(third.body.error.code, 'rate_limited');
      assert.ok(Number(third.headers['retry-after']) > 0);
      await agent.get('/api/v1/session').expect(401);
    } finally {
      await h.close();
    }
  });
});
