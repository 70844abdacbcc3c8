import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { PASSWORD, browser, csrf, freePort, harness } from '../helpers/harness.js';
import { CAROL_PASSWORD, openBaoHarness, type OpenBaoHarness } from './fixture.js';

describe('OpenBao that cannot be reached', () => {
  let t: OpenBaoHarness;
  before(async () => {
    t = await openBaoHarness();
  });
  after(() => t.close());

  it('is ready while OpenBao answers', async () => {
    assert.deepEqual((await request(t.h.app).get('/readyz').expect(200)).body, { status: 'ready' });
  });

  for (const mode of ['refuse', 'sealed'] as const) {
    it(`fails readiness and answers sign-in with 503 unavailable when OpenBao is ${mode === 'refuse' ? 'unreachable' : 'sealed'}`, async () => {
      t.bao.setUnreachable(true, mode);
      try {
        await request(t.h.app).get('/healthz').expect(200);
        assert.deepEqual((await request(t.h.app).get('/readyz').expect(503)).body, { status: 'unavailable' });
        const res = await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(503);
        assert.equal(res.body.error.code, 'unavailable');
        // Never another store: alice's SQLite password is not tried either.
        const alice = await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(503);
        assert.equal(alice.body.error.code, 'unavailable');
      } finally {
        t.bao.setUnreachable(false);
      }
      await request(t.h.app).get('/readyz').expect(200);
    });
  }

  it('fails readiness when the service token is no longer valid', async () => {
    const other = await harness({
      identityBackend: 'openbao',
      openbao: { address: t.bao.url, token: 's.not-the-service-token', mfaMethodId: t.bao.mfaMethodId },
    });
    try {
      await request(other.app).get('/readyz').expect(503);
    } finally {
      await other.close();
    }
  });

  it('starts without OpenBao, and is not ready until it answers', async () => {
    const port = await freePort();
    const h = await harness({
      identityBackend: 'openbao',
      openbao: {
        address: `http://127.0.0.1:${port}`,
        token: 's.gatehouse-service',
        mfaMethodId: '5b4b0a36-0b7e-4a5e-9b1a-0c0e6b1f2a3d',
        requestTimeoutMs: 500,
      },
    });
    try {
      await request(h.app).get('/healthz').expect(200);
      await request(h.app).get('/readyz').expect(503);
      const res = await browser(h).post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(503);
      assert.equal(res.body.error.code, 'unavailable');
    } finally {
      await h.close();
    }
  });
});

describe("Gatehouse's OpenBao service token", () => {
  it('is renewed by the upkeep while it is periodic, so it never runs out; without renewal it would', async () => {
    const t = await openBaoHarness({ emulator: { serviceTokenPeriod: 2 * 3600 } });
    try {
      const maintain = t.h.ctx.identity.maintain!;
      for (let hour = 0; hour < 4; hour++) {
        t.advance(3600);
        await maintain();
        await request(t.h.app).get('/readyz').expect(200);
      }
      const renewals = t.bao.requests.filter((r) => r.path === 'auth/token/renew-self' && r.status === 200);
      assert.equal(renewals.length, 4);

      t.advance(2 * 3600);
      await request(t.h.app).get('/readyz').expect(503);
      await assert.rejects(maintain(), /unavailable|refused/i, 'an expired token cannot be renewed: the operator must replace it');
    } finally {
      await t.close();
    }
  });

  it('is left alone when it does not expire', async () => {
    const t = await openBaoHarness();
    try {
      await t.h.ctx.identity.maintain!();
      assert.equal(t.bao.requests.filter((r) => r.path === 'auth/token/renew-self').length, 0);
    } finally {
      await t.close();
    }
  });
});
