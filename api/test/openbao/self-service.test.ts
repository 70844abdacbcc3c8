import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { MfaStatus, TotpEnrolment } from '@gatehouse/shared';
import { createOpenBaoClient } from '../../src/identity/openbao/client.js';
import { createOpenBaoIdentityProvider } from '../../src/identity/openbao/provider.js';
import { IdentityUnavailable } from '../../src/identity/provider.js';
import { browser, csrf } from '../helpers/harness.js';
import { CAROL_PASSWORD, DAVE_PASSWORD, OLIVIA_PASSWORD, openBaoHarness, portalSignIn, type OpenBaoHarness } from './fixture.js';

const loginStatus = async (t: OpenBaoHarness, username: string, password: string) =>
  (await fetch(`${t.bao.url}/v1/auth/userpass/login/${username}`, { method: 'POST', body: JSON.stringify({ password }) })).status;

describe('self-service on the OpenBao backend', () => {
  let t: OpenBaoHarness;
  before(async () => {
    t = await openBaoHarness();
  });
  after(() => t.close());

  it('changes the password: the current one is checked by logging in (with the code), then userpass is updated', async () => {
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    t.advance(30);
    const wrong = await agent
      .post('/api/v1/me/password')
      .set(csrf)
      .send({ currentPassword: 'not-her-password', newPassword: 'a-brand-new-password-1' })
      .expect(401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    // With TOTP on in OpenBao, the proof needs the code too.
    await agent
      .post('/api/v1/me/password')
      .set(csrf)
      .send({ currentPassword: CAROL_PASSWORD, newPassword: 'a-brand-new-password-1' })
      .expect(400);

    const revokedBefore = t.bao.revokedTokens.filter((tok) => tok.entityId === t.carol.id && tok.revoked === 'revoke-self').length;
    await agent
      .post('/api/v1/me/password')
      .set(csrf)
      .send({ currentPassword: CAROL_PASSWORD, newPassword: 'a-brand-new-password-1', code: t.bao.totp(t.carol.secret) })
      .expect(204);
    assert.equal(await loginStatus(t, 'carol', CAROL_PASSWORD), 400);
    assert.equal(await loginStatus(t, 'carol', 'a-brand-new-password-1'), 200);
    // The token the proof produced was given back at once.
    assert.equal(
      t.bao.revokedTokens.filter((tok) => tok.entityId === t.carol.id && tok.revoked === 'revoke-self').length,
      revokedBefore + 1,
    );
    assert.ok(t.h.audit.some((l) => /\bevent=password_change\b/.test(l) && l.includes(t.carol.id)));
  });

  it('shows the profile from entity metadata and refuses to change it: OpenBao is its source', async () => {
    const agent = await portalSignIn(t, 'olivia', OLIVIA_PASSWORD, t.olivia.secret);
    const me = (await agent.get('/api/v1/me').expect(200)).body;
    assert.deepEqual([me.username, me.name, me.email], ['olivia', 'Olivia Admin', null]);
    const res = await agent.patch('/api/v1/me').set(csrf).send({ name: 'Someone Else' }).expect(501);
    assert.equal(res.body.error.code, 'not_supported');
    assert.equal((await agent.get('/api/v1/me').expect(200)).body.name, 'Olivia Admin');
  });

  it('enrols TOTP in OpenBao, checks the first code, and turns it off again', async () => {
    t.bao.enforceMfa(false);
    try {
      const agent = browser(t.h);
      assert.equal(
        (await agent.post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(200)).body.status,
        'signed_in',
      );
      assert.equal(MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body).totp.enabled, false);

      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      assert.equal(t.bao.entities.find((e) => e.id === t.dave.id)?.totpEnrolled, true);
      assert.match(enrolment.otpauthUri, /^otpauth:\/\/totp\/OpenBao:dave\?/);
      assert.equal(t.bao.totp(enrolment.secret), await generate({ secret: enrolment.secret, epoch: t.h.clock.now() }));

      const bad = await agent.post('/api/v1/me/mfa/totp/confirm').set(csrf).send({ code: '000000' });
      if (t.bao.totp(enrolment.secret) !== '000000') assert.equal(bad.status, 400);
      const confirmed = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: t.bao.totp(enrolment.secret) })
        .expect(200);
      assert.deepEqual(confirmed.body, { recoveryCodes: [] });
      assert.equal(MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body).totp.enabled, true);
      // Gatehouse no longer keeps a copy of the secret once it is confirmed.
      const row = await t.h.ctx.storage.mfa.findTotp(t.dave.id);
      assert.equal(t.h.ctx.box.open(row!.sealedSecret), '{}');

      t.advance(30);
      const proof = { password: DAVE_PASSWORD, code: t.bao.totp(enrolment.secret) };
      const refused = await agent.post('/api/v1/me/mfa/recovery-codes').set(csrf).send(proof).expect(501);
      assert.equal(refused.body.error.code, 'not_supported');

      await agent.post('/api/v1/me/mfa/totp/disable').set(csrf).send(proof).expect(204);
      assert.equal(t.bao.entities.find((e) => e.id === t.dave.id)?.totpEnrolled, false);
      assert.equal(MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body).totp.enabled, false);
    } finally {
      t.bao.enforceMfa(true);
    }
  });

  it('destroys an enrolment left unconfirmed for ten minutes', async () => {
    t.bao.enforceMfa(false);
    try {
      const agent = browser(t.h);
      await agent.post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(200);
      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      t.advance(11 * 60);
      await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: t.bao.totp(enrolment.secret) })
        .expect(400);
      assert.equal(t.bao.entities.find((e) => e.id === t.dave.id)?.totpEnrolled, false);
      assert.equal(await t.h.ctx.storage.mfa.findTotp(t.dave.id), undefined);
    } finally {
      t.bao.enforceMfa(true);
    }
  });

  it("confirms an enrolment without the password after the re-authentication window, though OpenBao's login now asks for the new secret's code", async () => {
    t.bao.enforceMfa(false);
    try {
      const agent = browser(t.h);
      await agent.post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(200);
      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      // The unconfirmed secret is live in OpenBao: a password check now would need a code.
      t.bao.enforceMfa(true);
      t.advance(t.h.ctx.config.ttl.reauthWindow + 60);

      await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: t.bao.totp(enrolment.secret) })
        .expect(200);
      assert.equal(MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body).totp.enabled, true);
    } finally {
      await t.h.ctx.identity.mfa.disableTotp(t.dave.id);
      t.bao.enforceMfa(true);
    }
  });

  it('counts a sign-in or re-authentication whose password OpenBao accepted before the entity read failed, and gives back the ones OpenBao never answered', async () => {
    t.bao.enforceMfa(false);
    const settings = t.h.ctx.config.openbao!;
    const real = createOpenBaoClient(settings);
    const gone = () => Promise.reject(new IdentityUnavailable(new Error('OpenBao went away')));
    const faulty = createOpenBaoIdentityProvider(settings, {
      users: t.h.ctx.storage.users,
      mfa: t.h.ctx.storage.mfa,
      box: t.h.ctx.box,
      clock: t.h.ctx.clock,
      log: t.h.ctx.log,
      client: { ...real, readEntity: gone, lookupEntityByAlias: gone },
    });
    const original = t.h.ctx.identity.authenticate;
    const failures = async (key: string) => (await t.h.ctx.storage.mfa.findThrottle(key))?.failures ?? 0;
    const revokedOfDave = () => t.bao.revokedTokens.filter((tok) => tok.entityId === t.dave.id && tok.revoked === 'revoke-self').length;
    const signIn = (username: string, password: string) =>
      browser(t.h).post('/api/v1/session').set(csrf).send({ username, password }).expect(503);
    try {
      const agent = browser(t.h);
      const openSessions = async () => (await t.h.ctx.storage.sessions.listOpenExcept(t.dave.id, null)).map((s) => s.id);
      const before = await openSessions();
      await agent.post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(200);
      // Re-authentication is throttled per browser session: this agent's.
      const reauthKey = `reauth:session:${(await openSessions()).find((id) => !before.includes(id))}`;
      const changePassword = () =>
        agent
          .post('/api/v1/me/password')
          .set(csrf)
          .send({ currentPassword: DAVE_PASSWORD, newPassword: 'a-brand-new-password-2' })
          .expect(503);
      t.h.ctx.identity.authenticate = faulty.authenticate;
      const revoked = revokedOfDave();

      await signIn('dave', DAVE_PASSWORD);
      assert.equal(await failures('login:dave'), 1, 'a login OpenBao answered counts');
      assert.equal(revokedOfDave(), revoked + 1, 'its token is given back');
      await changePassword();
      assert.equal(await failures(reauthKey), 1);
      t.bao.enforceMfa(true);
      await signIn('olivia', OLIVIA_PASSWORD);
      assert.equal(await failures('login:olivia'), 1, 'so does one OpenBao answered with an MFA requirement');

      t.bao.setUnreachable(true, 'refuse');
      await signIn('dave', DAVE_PASSWORD);
      await changePassword();
      assert.deepEqual([await failures('login:dave'), await failures(reauthKey)], [1, 1], 'a login OpenBao never answered is given back');
    } finally {
      t.bao.setUnreachable(false);
      t.h.ctx.identity.authenticate = original;
      for (const key of ['login:dave', 'login:olivia']) await t.h.ctx.storage.mfa.clearThrottle(key);
      t.bao.enforceMfa(true);
    }
  });
});
