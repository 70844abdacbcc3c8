import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { MfaStatus, TotpEnrolment } from '@gatehouse/shared';
import { PASSWORD, csrf, harness, ALICE_ID } from '../helpers/harness.js';
import { enrolTotp, portalBrowser, totp } from '../helpers/mfa.js';

describe('enrolling TOTP', () => {
  it('shows a fresh secret as QR code and manual key, and turns TOTP on only with a correct code', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      assert.deepEqual(MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body), {
        totp: { enabled: false, recoveryCodesLeft: 0 },
      });
      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      assert.match(enrolment.secret, /^[A-Z2-7]{32}$/);
      assert.match(enrolment.otpauthUri, /^otpauth:\/\/totp\/Gatehouse:alice%40example\.org\?secret=[A-Z2-7]{32}&issuer=Gatehouse$/);
      assert.match(Buffer.from(enrolment.qrCode.split(',')[1]!, 'base64').toString(), /^<svg/);

      const wrong = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret, 3) })
        .expect(400);
      assert.equal(wrong.body.error.code, 'mfa_failed');
      assert.equal((await agent.get('/api/v1/me/mfa')).body.totp.enabled, false);

      const ok = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret) })
        .expect(200);
      assert.equal(ok.body.recoveryCodes.length, 10);
      for (const code of ok.body.recoveryCodes) assert.match(code, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
      assert.equal(new Set(ok.body.recoveryCodes).size, 10);
      assert.deepEqual((await agent.get('/api/v1/me/mfa')).body, { totp: { enabled: true, recoveryCodesLeft: 10 } });
      assert.ok(h.audit.some((l) => l.includes('event=totp_enable') && l.includes(`user=${ALICE_ID}`)));
      assert.ok(
        h.audit.every((l) => !l.includes(enrolment.secret)),
        'the secret is never logged',
      );
    } finally {
      await h.close();
    }
  });

  it('keeps the secret sealed at rest and the recovery codes hashed', async () => {
    const h = await harness();
    try {
      const { secret, recoveryCodes } = await enrolTotp(h, await portalBrowser(h));
      const stored = await h.ctx.storage.mfa.findTotp(ALICE_ID);
      assert.ok(stored && !stored.sealedSecret.includes(secret));
      assert.equal(h.ctx.box.open(stored.sealedSecret), secret);
      const raw = h.ctx.storage.mfa as unknown as {
        db: { selectFrom(t: string): { selectAll(): { execute(): Promise<{ code_hash: string }[]> } } };
      };
      const rows = await raw.db.selectFrom('recovery_codes').selectAll().execute();
      assert.equal(rows.length, 10);
      for (const code of recoveryCodes) assert.ok(rows.every((r) => !r.code_hash.includes(code.replace(/-/g, ''))));
    } finally {
      await h.close();
    }
  });

  it('refuses a second enrolment while TOTP is on', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      await enrolTotp(h, agent);
      const again = await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(409);
      assert.equal(again.body.error.code, 'mfa_already_enrolled');
    } finally {
      await h.close();
    }
  });

  it('needs a signed-in session and the CSRF header', async () => {
    const h = await harness();
    try {
      const anonymous = await request(h.app).get('/api/v1/me/mfa').expect(401);
      assert.equal(anonymous.body.error.code, 'unauthenticated');
      const agent = await portalBrowser(h);
      const noCsrf = await agent.post('/api/v1/me/mfa/totp').set('Origin', 'http://localhost:4000').expect(403);
      assert.equal(noCsrf.body.error.code, 'csrf_rejected');
    } finally {
      await h.close();
    }
  });

  it('turns TOTP off only with the password and a current code', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const { secret } = await enrolTotp(h, agent);
      const badPassword = await agent
        .post('/api/v1/me/mfa/totp/disable')
        .set(csrf)
        .send({ password: 'nope', code: await totp(h, secret) })
        .expect(401);
      assert.equal(badPassword.body.error.code, 'invalid_credentials');
      const badCode = await agent.post('/api/v1/me/mfa/totp/disable').set(csrf).send({ password: PASSWORD, code: '000000' }).expect(401);
      assert.equal(badCode.body.error.code, 'mfa_failed');
      assert.equal((await agent.get('/api/v1/me/mfa')).body.totp.enabled, true);
      await agent
        .post('/api/v1/me/mfa/totp/disable')
        .set(csrf)
        .send({ password: PASSWORD, code: await totp(h, secret) })
        .expect(204);
      assert.deepEqual((await agent.get('/api/v1/me/mfa')).body, { totp: { enabled: false, recoveryCodesLeft: 0 } });
      assert.ok(h.audit.some((l) => l.includes('event=totp_disable')));
    } finally {
      await h.close();
    }
  });

  it('regenerates recovery codes with the password and a code, and the old ones stop working', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const { secret, recoveryCodes } = await enrolTotp(h, agent);
      const res = await agent
        .post('/api/v1/me/mfa/recovery-codes')
        .set(csrf)
        .send({ password: PASSWORD, code: await totp(h, secret) })
        .expect(200);
      assert.equal(res.body.recoveryCodes.length, 10);
      assert.notDeepEqual(res.body.recoveryCodes, recoveryCodes);
      assert.equal(await h.ctx.identity.mfa.verify(ALICE_ID, { recoveryCode: recoveryCodes[0]! }), 'invalid');
      assert.equal(await h.ctx.identity.mfa.verify(ALICE_ID, { recoveryCode: res.body.recoveryCodes[0] }), 'recovery');
    } finally {
      await h.close();
    }
  });
});
