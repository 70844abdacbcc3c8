import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { purgeExpired } from '../../src/bootstrap.js';
import { ALICE_ID, harness } from '../helpers/harness.js';

describe('the periodic purge', () => {
  it('deletes expired second-step challenges, device cookies and forgotten throttle failures, and keeps live ones', async () => {
    const h = await harness();
    try {
      const now = h.ctx.clock.now();
      const mfa = h.ctx.storage.mfa;
      const challenge = (id: string, expiresAt: number) => ({
        id,
        browserHash: `browser-${id}`,
        userId: ALICE_ID,
        interactionId: null,
        remember: false,
        failures: 0,
        expiresAt,
        backendState: null,
        idp: null,
      });
      await mfa.insertChallenge(challenge('old', now + 60), now);
      await mfa.insertChallenge(challenge('live', now + 3 * 24 * 3600), now);
      await mfa.insertDeviceCookie({ hash: 'old-device', userId: ALICE_ID, login: 'alice', expiresAt: now + 60 }, now);
      await mfa.insertDeviceCookie({ hash: 'live-device', userId: ALICE_ID, login: 'alice', expiresAt: now + 3 * 24 * 3600 }, now);
      await h.ctx.regulator.reserve('login:stranger');

      h.clock.advance(2 * 24 * 3600);
      await purgeExpired(h.ctx);

      const later = h.ctx.clock.now();
      assert.equal(await mfa.findChallenge('browser-old', null, later - 3 * 24 * 3600), undefined);
      assert.ok(await mfa.findChallenge('browser-live', null, later));
      assert.equal(await mfa.findDeviceCookie('old-device', later - 3 * 24 * 3600), undefined);
      assert.ok(await mfa.findDeviceCookie('live-device', later));
      assert.equal(await mfa.findThrottle('login:stranger'), undefined);
    } finally {
      await h.close();
    }
  });
});
