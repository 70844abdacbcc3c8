import { it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AcceptedInvitation, CreatedInvitation, InvitationPreview, MfaStatus, RegistrationSettings } from '@gatehouse/shared';
import { adminBrowser } from '../helpers/admin.js';
import { browser, csrf, harness, type Harness, describeManagingUsers } from '../helpers/harness.js';
import { portalBrowser, totp } from '../helpers/mfa.js';

const NEW_PASSWORD = 'bobs-new-password-42';

async function invite(h: Harness, body: object = { email: 'bob@example.org', groups: ['staff'] }) {
  const admin = await adminBrowser(h);
  const created = CreatedInvitation.parse((await admin.post('/api/v1/admin/invitations').set(csrf).send(body).expect(201)).body);
  return { id: created.invitation.id, token: created.url.split('#')[1]! };
}

const lookup = (h: Harness, token: string) => request(h.app).post('/api/v1/invitations/lookup').set(csrf).send({ token });
const accept = (h: Harness, token: string, extra: object = {}) =>
  request(h.app)
    .post('/api/v1/invitations/accept')
    .set(csrf)
    .send({ token, username: 'bob', name: 'Bob Builder', password: NEW_PASSWORD, ...extra });
const register = (h: Harness, body: object) => request(h.app).post('/api/v1/registration').set(csrf).send(body);

const INVALID_LINK = /not valid\. It may have expired or been used already/;

// Invitations and sign-up create accounts: only where Gatehouse manages users.
describeManagingUsers('accepting an invitation', () => {
  it('previews the invitation, then creates the account in its groups with the email verified', async () => {
    const h = await harness();
    try {
      const { id, token } = await invite(h, { email: 'bob@example.org', groups: ['staff', 'ops'] });
      const preview = InvitationPreview.parse((await lookup(h, token).expect(200)).body);
      assert.deepEqual(preview, { email: 'bob@example.org', groups: ['staff', 'ops'], expiresAt: h.clock.now() + 72 * 3600, totp: null });

      const accepted = AcceptedInvitation.parse((await accept(h, token).expect(201)).body);
      assert.deepEqual(accepted, { username: 'bob', recoveryCodes: null });

      const user = await h.ctx.identity.directory.resolveUser('bob');
      assert.ok(user);
      assert.equal(user.email, 'bob@example.org');
      assert.equal(user.emailVerified, true);
      assert.equal(user.name, 'Bob Builder');
      assert.equal(user.isAdmin, false);
      const account = await h.ctx.identity.findAccount(user.id);
      assert.deepEqual([...(account?.groups ?? [])].sort(), ['ops', 'staff']);
      assert.equal(account?.emailVerified, true);

      await portalBrowser(h, 'bob', NEW_PASSWORD);
      const stored = await h.ctx.storage.invitations.findById(id);
      assert.equal(stored?.usedBy, user.id);
      const acceptLine = h.audit.find((l) => l.includes('event=invitation_accept'));
      assert.match(acceptLine ?? '', new RegExp(`user=${user.id}`));
      assert.ok(h.audit.some((l) => l.includes('event=user_create') && l.includes(`user=${user.id}`)));
      assert.ok(
        h.audit.every((l) => !l.includes(token) && !l.includes(NEW_PASSWORD)),
        'neither token nor password is logged',
      );
    } finally {
      await h.close();
    }
  });

  it('works once: a second accept and a second lookup are refused', async () => {
    const h = await harness();
    try {
      const { token } = await invite(h);
      await accept(h, token).expect(201);
      const again = await accept(h, token, { username: 'bob2' }).expect(404);
      assert.equal(again.body.error.code, 'not_found');
      assert.match(again.body.error.message, INVALID_LINK);
      await lookup(h, token).expect(404);
      assert.equal(await h.ctx.identity.directory.resolveUser('bob2'), undefined);
    } finally {
      await h.close();
    }
  });

  it('never makes two accounts, even when accepted twice at once', async () => {
    const h = await harness();
    try {
      const { token } = await invite(h);
      const results = await Promise.all([accept(h, token, { username: 'bob1' }), accept(h, token, { username: 'bob2' })]);
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 404]);
      const made = await Promise.all(['bob1', 'bob2'].map((u) => h.ctx.identity.directory.resolveUser(u)));
      assert.equal(made.filter(Boolean).length, 1);
    } finally {
      await h.close();
    }
  });

  it('gives the same 404 for unknown, expired and revoked invitations', async () => {
    const h = await harness();
    try {
      const unknown = await lookup(h, 'x'.repeat(43)).expect(404);
      assert.match(unknown.body.error.message, INVALID_LINK);

      const revoked = await invite(h);
      await (await adminBrowser(h)).delete(`/api/v1/admin/invitations/${revoked.id}`).set(csrf).expect(204);
      assert.equal((await lookup(h, revoked.token).expect(404)).body.error.message, unknown.body.error.message);
      assert.equal((await accept(h, revoked.token).expect(404)).body.error.message, unknown.body.error.message);

      const expiring = await invite(h, { email: 'carol@example.org', expiresInHours: 1 });
      h.clock.advance(3600 - 1);
      await lookup(h, expiring.token).expect(200);
      h.clock.advance(1);
      assert.equal((await lookup(h, expiring.token).expect(404)).body.error.message, unknown.body.error.message);
      assert.equal((await accept(h, expiring.token, { username: 'carol' }).expect(404)).body.error.code, 'not_found');
      assert.equal(await h.ctx.identity.directory.resolveUser('carol'), undefined);
    } finally {
      await h.close();
    }
  });

  it('keeps the invitation usable when the username is taken or the body is bad', async () => {
    const h = await harness();
    try {
      const { token } = await invite(h);
      const taken = await accept(h, token, { username: 'alice' }).expect(409);
      assert.equal(taken.body.error.code, 'conflict');
      assert.match(taken.body.error.message, /username is taken/);
      const weak = await accept(h, token, { password: 'short' }).expect(400);
      assert.equal(weak.body.error.code, 'validation_failed');
      assert.equal(weak.body.error.details[0].field, 'password');
      await lookup(h, token).expect(200);
      await accept(h, token).expect(201);
    } finally {
      await h.close();
    }
  });

  it('only serves the Gatehouse SPA: no Origin or CSRF header, no answer', async () => {
    const h = await harness();
    try {
      const { token } = await invite(h);
      const res = await request(h.app).post('/api/v1/invitations/lookup').send({ token }).expect(403);
      assert.equal(res.body.error.code, 'csrf_rejected');
      await request(h.app)
        .post('/api/v1/invitations/accept')
        .set({ ...csrf, Origin: 'https://evil.example' })
        .send({ token, username: 'bob', password: NEW_PASSWORD })
        .expect(403);
      await lookup(h, token).expect(200);
    } finally {
      await h.close();
    }
  });
});

describeManagingUsers('accepting an invitation into a group that requires a second factor', () => {
  async function secureInvitation(h: Harness) {
    const secure = await h.ctx.identity.directory.createGroup({ name: 'secure', description: null, requireMfa: true, parentIds: [] });
    // Nested in a group that requires a second factor: the requirement is inherited.
    await h.ctx.identity.directory.createGroup({ name: 'vault', description: null, requireMfa: false, parentIds: [secure.id] });
    return invite(h, { email: 'bob@example.org', groups: ['vault'] });
  }

  it('offers one TOTP secret per invitation and refuses to finish without a correct code', async () => {
    const h = await harness();
    try {
      const { token } = await secureInvitation(h);
      const preview = InvitationPreview.parse((await lookup(h, token).expect(200)).body);
      assert.ok(preview.totp);
      assert.match(preview.totp.secret, /^[A-Z2-7]{32}$/);
      assert.match(preview.totp.otpauthUri, /^otpauth:\/\/totp\/Gatehouse:bob%40example\.org\?secret=/);
      assert.equal(InvitationPreview.parse((await lookup(h, token).expect(200)).body).totp?.secret, preview.totp.secret);

      const missing = await accept(h, token).expect(400);
      assert.equal(missing.body.error.code, 'mfa_failed');
      assert.match(missing.body.error.message, /authenticator app/);
      const wrong = await accept(h, token, { code: await totp(h, preview.totp.secret, 5) }).expect(401);
      assert.equal(wrong.body.error.code, 'mfa_failed');
      assert.match(wrong.body.error.message, /does not match/);
      assert.equal(await h.ctx.identity.directory.resolveUser('bob'), undefined);
      assert.equal(InvitationPreview.parse((await lookup(h, token).expect(200)).body).totp?.secret, preview.totp.secret);
    } finally {
      await h.close();
    }
  });

  it('with the right code, turns TOTP on for the new user, who then signs in with a second factor', async () => {
    const h = await harness();
    try {
      const { token } = await secureInvitation(h);
      const { totp: enrolment } = InvitationPreview.parse((await lookup(h, token).expect(200)).body);
      assert.ok(enrolment);
      const code = await totp(h, enrolment.secret);
      const accepted = AcceptedInvitation.parse((await accept(h, token, { code }).expect(201)).body);
      assert.equal(accepted.recoveryCodes?.length, 10);

      const user = await h.ctx.identity.directory.resolveUser('bob');
      assert.ok(user);
      assert.deepEqual(MfaStatus.parse(await h.ctx.identity.mfa.status(user.id)), { totp: { enabled: true, recoveryCodesLeft: 10 } });
      assert.equal((await h.ctx.identity.findUser(user.id))?.requireMfa, true);

      const agent = browser(h);
      const signIn = await agent.post('/api/v1/session').set(csrf).send({ username: 'bob', password: NEW_PASSWORD }).expect(200);
      assert.equal(signIn.body.status, 'mfa_required');
      const replay = await agent.post('/api/v1/session/mfa').set(csrf).send({ code }).expect(401);
      assert.equal(replay.body.error.code, 'mfa_failed', 'the code used to enrol cannot be used again');
      h.clock.advance(30);
      const done = await agent
        .post('/api/v1/session/mfa')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret) })
        .expect(200);
      assert.equal(done.body.status, 'signed_in');
      const other = browser(h);
      await other.post('/api/v1/session').set(csrf).send({ username: 'bob', password: NEW_PASSWORD }).expect(200);
      const recovered = await other.post('/api/v1/session/mfa').set(csrf).send({ recoveryCode: accepted.recoveryCodes![0] }).expect(200);
      assert.equal(recovered.body.status, 'signed_in', 'the recovery codes answered work');
      assert.ok(h.audit.some((l) => l.includes('event=invitation_accept') && l.includes('totp=true')));
      assert.ok(h.audit.every((l) => !l.includes(enrolment.secret)));
    } finally {
      await h.close();
    }
  });
});

describeManagingUsers('self-registration', () => {
  it('is off by default: the settings say so and signing up is refused before anything else', async () => {
    const h = await harness();
    try {
      assert.deepEqual(RegistrationSettings.parse((await request(h.app).get('/api/v1/registration').expect(200)).body), { enabled: false });
      const res = await register(h, { username: 'mallory', email: 'm@example.org', password: NEW_PASSWORD }).expect(403);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal(res.body.error.message, 'Self-registration is turned off; ask an administrator for an invitation.');
      assert.equal((await register(h, {}).expect(403)).body.error.code, 'forbidden');
      assert.equal(await h.ctx.identity.directory.resolveUser('mallory'), undefined);
    } finally {
      await h.close();
    }
  });

  it('when on, creates an account in no group with the email unverified', async () => {
    const h = await harness({ selfRegistration: true });
    try {
      assert.equal((await request(h.app).get('/api/v1/registration').expect(200)).body.enabled, true);
      const res = await register(h, { username: 'carol', email: 'carol@example.org', name: 'Carol', password: NEW_PASSWORD }).expect(201);
      assert.deepEqual(res.body, { username: 'carol' });
      const user = await h.ctx.identity.directory.resolveUser('carol');
      assert.ok(user);
      assert.equal(user.email, 'carol@example.org');
      assert.equal(user.emailVerified, false);
      assert.equal(user.isAdmin, false);
      assert.deepEqual(user.groups, []);
      assert.deepEqual((await h.ctx.identity.findAccount(user.id))?.groups, []);
      assert.ok(h.audit.some((l) => l.includes('event=registration') && l.includes(`user=${user.id}`)));
      await portalBrowser(h, 'carol', NEW_PASSWORD);
    } finally {
      await h.close();
    }
  });

  it('refuses a taken username or email, and a bad body, creating nothing', async () => {
    const h = await harness({ selfRegistration: true });
    try {
      const username = await register(h, { username: 'alice', email: 'new@example.org', password: NEW_PASSWORD }).expect(409);
      assert.equal(username.body.error.code, 'conflict');
      assert.match(username.body.error.message, /username is taken/);
      const email = await register(h, { username: 'alice2', email: 'alice@example.org', password: NEW_PASSWORD }).expect(409);
      assert.equal(email.body.error.code, 'conflict');
      const bad = await register(h, { username: 'has space', email: 'nope', password: NEW_PASSWORD }).expect(400);
      assert.equal(bad.body.error.code, 'validation_failed');
      assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field).sort(), ['email', 'username']);
      assert.equal(await h.ctx.identity.directory.resolveUser('alice2'), undefined);
      const csrfLess = await request(h.app)
        .post('/api/v1/registration')
        .send({ username: 'x', email: 'x@example.org', password: NEW_PASSWORD });
      assert.equal(csrfLess.status, 403);
      assert.equal(csrfLess.body.error.code, 'csrf_rejected');
    } finally {
      await h.close();
    }
  });
});
