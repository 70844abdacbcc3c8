import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { IdentityUnavailable } from '../../src/identity/provider.js';
import { PASSWORD, csrf, harness, type Harness } from '../helpers/harness.js';
import { enrolTotp, portalBrowser } from '../helpers/mfa.js';

const signIn = (h: Harness, username: string, password: string) =>
  request(h.app).post('/api/v1/session').set(csrf).send({ username, password });

describe('guessing passwords and codes', () => {
  it('makes a login name wait after five failures, longer each time, and never locks it for good', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      for (let i = 0; i < 5; i++) await signIn(h, 'alice', 'wrong').expect(401);
      await signIn(h, 'alice', 'wrong').expect(401);
      const blocked = await signIn(h, 'alice', PASSWORD).expect(429);
      assert.equal(blocked.body.error.code, 'too_many_attempts');
      assert.equal(blocked.headers['retry-after'], '1');
      assert.ok(h.audit.some((l) => l.includes('event=lockout') && l.includes('failures=6')));

      h.clock.advance(1);
      await signIn(h, 'alice', 'wrong').expect(401);
      assert.equal((await signIn(h, 'alice', PASSWORD).expect(429)).headers['retry-after'], '2');
      h.clock.advance(2);
      const ok = await signIn(h, 'alice', PASSWORD).expect(200);
      assert.equal(ok.body.status, 'signed_in');
      for (let i = 0; i < 5; i++) await signIn(h, 'alice', 'wrong').expect(401);
    } finally {
      await h.close();
    }
  });

  it('caps the wait at the configured maximum', async () => {
    const h = await harness({ rateLimit: { login: 1000 }, throttle: { freeFailures: 1, maxDelay: 4 } });
    try {
      for (let i = 0; i < 8; i++) {
        await signIn(h, 'alice', 'wrong');
        h.clock.advance(10);
      }
      await signIn(h, 'alice', 'wrong').expect(401);
      assert.equal((await signIn(h, 'alice', PASSWORD).expect(429)).headers['retry-after'], '4');
    } finally {
      await h.close();
    }
  });

  it('treats an unknown user exactly like a known one', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const seen = async (username: string) => {
        const out: string[] = [];
        for (let i = 0; i < 7; i++) {
          const res = await signIn(h, username, 'wrong');
          out.push(`${res.status} ${JSON.stringify(res.body)} ${res.headers['retry-after'] ?? '-'}`);
        }
        return out;
      };
      assert.deepEqual(await seen('mallory'), await seen('alice'));
    } finally {
      await h.close();
    }
  });

  it('keeps one login name from slowing another', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      for (let i = 0; i < 7; i++) await signIn(h, 'mallory', 'wrong');
      await signIn(h, 'alice', PASSWORD).expect(200);
    } finally {
      await h.close();
    }
  });

  it('makes second-factor guesses wait too', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      await enrolTotp(h, await portalBrowser(h));
      for (let round = 0; round < 2; round++) {
        const agent = request.agent(h.app);
        await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
        for (let i = 0; i < 3; i++) await agent.post('/api/v1/session/mfa').set(csrf).send({ code: '000000' }).expect(401);
      }
      const agent = request.agent(h.app);
      await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
      const blocked = await agent.post('/api/v1/session/mfa').set(csrf).send({ code: '000000' }).expect(429);
      assert.equal(blocked.body.error.code, 'too_many_attempts');
    } finally {
      await h.close();
    }
  });

  it('does not count attempts the identity backend could not answer', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const authenticate = h.ctx.identity.authenticate.bind(h.ctx.identity);
      h.ctx.identity.authenticate = () => Promise.reject(new IdentityUnavailable());
      for (let i = 0; i < 10; i++) assert.equal((await signIn(h, 'alice', 'wrong').expect(503)).body.error.code, 'unavailable');
      h.ctx.identity.authenticate = authenticate;
      for (let i = 0; i < 5; i++) await signIn(h, 'alice', 'wrong').expect(401);
      await signIn(h, 'alice', PASSWORD).expect(200);
    } finally {
      await h.close();
    }
  });

  it('limits requests per IP with standard headers, on top of the per-name waits', async () => {
    const h = await harness({ rateLimit: { login: 3 } });
    try {
      for (let i = 0; i < 3; i++) await signIn(h, `user${i}`, 'wrong').expect(401);
      const res = await signIn(h, 'someone-else', 'wrong').expect(429);
      assert.equal(res.body.error.code, 'rate_limited');
      assert.ok(res.headers['ratelimit-policy']);
      assert.ok(Number(res.headers['retry-after']) > 0);
    } finally {
      await h.close();
    }
  });
});
