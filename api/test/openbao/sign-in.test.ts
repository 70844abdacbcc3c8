import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import {
  PASSWORD,
  SECRET,
  browser,
  confidentialParams,
  csrf,
  local,
  redeem,
  startInteraction,
  submitConsent,
  submitLogin,
} from '../helpers/harness.js';
import { CAROL_PASSWORD, DAVE_PASSWORD, openBaoHarness, portalSignIn, type OpenBaoHarness } from './fixture.js';

const audited = (t: OpenBaoHarness, event: string) => t.h.audit.filter((l) => new RegExp(`\\bevent=${event}\\b`).test(l));

describe('signing in against OpenBao', () => {
  let t: OpenBaoHarness;
  before(async () => {
    t = await openBaoHarness();
  });
  after(() => t.close());

  it('signs in with password and TOTP through the interaction endpoints to an ID token for the entity', async () => {
    const agent = browser(t.h);
    const { id } = await startInteraction(agent, confidentialParams());
    const login = await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username: 'carol', password: CAROL_PASSWORD });
    assert.equal(login.status, 200);
    assert.deepEqual(login.body, { next: 'mfa' });
    // The MFA request id is sealed on the challenge, never sent to the browser.
    assert.doesNotMatch(JSON.stringify(login.body) + String(login.headers['set-cookie']), /mfa_request_id|mfaRequestId/);

    const mfa = await agent
      .post(`/api/v1/interactions/${id}/mfa`)
      .set(csrf)
      .send({ code: t.bao.totp(t.carol.secret) })
      .expect(200);
    assert.equal(mfa.body.next, 'consent');
    const next = await submitConsent(agent, id);
    assert.equal(next.next, 'redirect');
    const callback = new URL((await agent.get(local(next.next === 'redirect' ? next.location : '')).expect(303)).headers.location!);
    const code = callback.searchParams.get('code');
    assert.ok(code, `expected a code: ${callback}`);
    const tokens = (await redeem(t.h, code).expect(200)).body;
    const claims = decodeJwt(tokens.id_token);
    assert.equal(claims.sub, t.carol.id);
    assert.equal(claims.preferred_username, 'carol');
    assert.equal(claims.name, 'Carol Danvers');
    assert.equal(claims.email, 'carol@example.org');
    assert.equal(claims.email_verified, false);
    // staff directly, employees through nesting.
    assert.deepEqual(claims.groups, ['employees', 'staff']);
    assert.deepEqual(claims.amr, ['pwd', 'otp']);

    // The user's OpenBao token lives sealed on the session, bound to it.
    const session = (await t.h.ctx.storage.sessions.listActive(t.carol.id, t.h.clock.now(), 3600))[0];
    assert.ok(session?.backendToken);
    const live = t.bao.tokens.filter((tok) => tok.kind === 'login' && tok.entityId === t.carol.id && !tok.revoked);
    assert.equal(live.length, 1);
    assert.equal(t.h.ctx.box.open(session.backendToken), live[0]!.id);
    assert.equal(session.expiresAt, live[0]!.expiresAt);

    // The shadow row carries the entity id, and no password that could ever verify.
    const shadow = await t.h.ctx.storage.users.findById(t.carol.id);
    assert.equal(shadow?.username, 'carol');
    assert.equal(shadow?.passwordHash, '');
  });

  it('answers one generic failure for a wrong password and an unknown user, with the reason in the audit trail', async () => {
    const agent = browser(t.h);
    const wrong = await agent.post('/api/v1/session').set(csrf).send({ username: 'carol', password: 'not-her-password' }).expect(401);
    const unknown = await agent.post('/api/v1/session').set(csrf).send({ username: 'mallory', password: 'whatever-123' }).expect(401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    assert.deepEqual(unknown.body, wrong.body);
    const failures = audited(t, 'login_failure');
    assert.ok(failures.some((l) => l.includes('reason=bad_password') && l.includes(t.carol.id)));
    assert.ok(failures.some((l) => l.includes('reason=unknown_user') && l.includes('login=mallory')));
  });

  it('does not sign in by email: userpass has no email lookup, and OpenBao is not asked', async () => {
    const before = t.bao.requests.length;
    await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'carol@example.org', password: CAROL_PASSWORD }).expect(401);
    assert.equal(t.bao.requests.slice(before).filter((r) => r.path.includes('/login/')).length, 0);
  });

  it('never falls back to the SQLite users, and makes no SQLite admin at start', async () => {
    await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(401);
    assert.equal(await t.h.ctx.storage.users.findByLogin('admin'), undefined);
    assert.equal(audited(t, 'user_create').length, 0);
  });

  it('refuses a wrong code, and takes the right one on the same challenge', async () => {
    t.advance(30);
    const agent = browser(t.h);
    assert.equal(
      (await agent.post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(200)).body.status,
      'mfa_required',
    );
    const right = t.bao.totp(t.carol.secret);
    const wrong = right === '000000' ? '111111' : '000000';
    const refused = await agent.post('/api/v1/session/mfa').set(csrf).send({ code: wrong }).expect(401);
    assert.equal(refused.body.error.code, 'mfa_failed');
    assert.ok(audited(t, 'mfa_failure').some((l) => l.includes('reason=invalid')));
    const ok = await agent.post('/api/v1/session/mfa').set(csrf).send({ code: right }).expect(200);
    assert.equal(ok.body.status, 'signed_in');
    assert.equal(ok.body.session.user.id, t.carol.id);
  });

  it('refuses a code OpenBao has already accepted', async () => {
    t.advance(30);
    const code = t.bao.totp(t.carol.secret);
    const first = browser(t.h);
    await first.post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(200);
    await first.post('/api/v1/session/mfa').set(csrf).send({ code }).expect(200);

    const second = browser(t.h);
    await second.post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(200);
    const replayed = await second.post('/api/v1/session/mfa').set(csrf).send({ code }).expect(401);
    assert.equal(replayed.body.error.code, 'mfa_failed');
    assert.ok(audited(t, 'mfa_failure').some((l) => l.includes('reason=replayed')));
  });

  it('offers no recovery codes on this backend', async () => {
    t.advance(30);
    const agent = browser(t.h);
    await agent.post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(200);
    const refused = await agent.post('/api/v1/session/mfa').set(csrf).send({ recoveryCode: 'ABCD-EFGH-IJKL-MNOP' }).expect(401);
    assert.equal(refused.body.error.code, 'mfa_failed');
    // A recovery code never reaches OpenBao: the login's MFA request is still open for the real code.
    const ok = await agent
      .post('/api/v1/session/mfa')
      .set(csrf)
      .send({ code: t.bao.totp(t.carol.secret) })
      .expect(200);
    assert.equal(ok.body.status, 'signed_in');
  });

  it('ends the session when the OpenBao token runs out, and audits session_expired', async () => {
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    const view = (await agent.get('/api/v1/session').expect(200)).body;
    assert.equal(view.user.id, t.carol.id);
    assert.equal(view.expiresAt, t.h.clock.now() + t.bao.userTokenTtl);
    assert.equal(view.capabilities.identityBackend, 'openbao');

    t.advance(t.bao.userTokenTtl);
    await agent.get('/api/v1/session').expect(401);
    assert.ok(audited(t, 'session_expired').some((l) => l.includes(t.carol.id) && l.includes('reason=backend_token')));
  });

  it('gives the OpenBao token back at sign-out', async () => {
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    const live = () => t.bao.tokens.filter((tok) => tok.kind === 'login' && tok.entityId === t.carol.id && !tok.revoked).length;
    const before = live();
    await agent.post('/api/v1/session/logout').set(csrf).send({}).expect(200);
    assert.equal(live(), before - 1);
    assert.ok(t.bao.revokedTokens.some((tok) => tok.entityId === t.carol.id && tok.revoked === 'revoke-self'));
  });

  it('gives back the OpenBao tokens of every other browser when the user signs them all out', async () => {
    const others = [
      await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret),
      await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret),
    ];
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    const live = () => t.bao.tokens.filter((tok) => tok.kind === 'login' && tok.entityId === t.carol.id && !tok.revoked).length;
    const before = live();
    await agent.delete('/api/v1/me/sessions').set(csrf).expect(204);
    assert.equal(live(), before - 2);
    for (const other of others) await other.get('/api/v1/session').expect(401);
    await agent.get('/api/v1/session').expect(200);
  });

  it('reads name, email and email_verified from entity metadata, with lookups cached a few seconds', async () => {
    const res = await fetch(`${t.bao.url}/v1/identity/entity/id/${t.carol.id}`, {
      method: 'POST',
      headers: { 'X-Vault-Token': t.bao.serviceToken },
      body: JSON.stringify({ metadata: { name: 'Carol D.', email: 'carol@example.org', email_verified: 'true' } }),
    });
    assert.equal(res.status, 204);
    t.advance(10);
    const from = t.bao.requests.length;
    const account = await t.h.ctx.identity.findAccount(t.carol.id);
    assert.equal(account?.name, 'Carol D.');
    assert.equal(account?.emailVerified, true);
    await t.h.ctx.identity.findAccount(t.carol.id);
    await t.h.ctx.identity.findUser(t.carol.id);
    assert.equal(t.bao.requests.slice(from).filter((r) => r.path === `identity/entity/id/${t.carol.id}`).length, 1);
    // The shadow row follows OpenBao.
    assert.equal((await t.h.ctx.storage.users.findById(t.carol.id))?.name, 'Carol D.');
  });

  it('signs in with the password alone when OpenBao enforces no MFA, and refuses a disabled entity', async () => {
    t.bao.enforceMfa(false);
    try {
      const agent = browser(t.h);
      const res = await agent.post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(200);
      assert.equal(res.body.status, 'signed_in');
      assert.equal(res.body.session.user.id, t.dave.id);
      assert.ok(t.bao.tokens.some((tok) => tok.kind === 'login' && tok.entityId === t.dave.id && !tok.revoked));

      t.bao.setEntityDisabled(t.dave.id, true);
      t.advance(10); // past the entity cache
      await agent.get('/api/v1/session').expect(401);
      const from = t.bao.requests.length;
      await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'dave', password: DAVE_PASSWORD }).expect(401);
      assert.ok(audited(t, 'login_failure').some((l) => l.includes('reason=disabled') && l.includes(t.dave.id)));
      // The token issued for the refused login is given back at once (OpenBao refuses even that to a
      // disabled entity's token, which stays unusable and runs out with its TTL).
      assert.ok(t.bao.requests.slice(from).some((r) => r.path === 'auth/token/revoke-self'));
    } finally {
      t.bao.setEntityDisabled(t.dave.id, false);
      t.bao.enforceMfa(true);
    }
  });
});

describe('an application that requires a second factor, on OpenBao', () => {
  it('sends the user back to the application with access_denied when OpenBao asked for no code, instead of asking again', async () => {
    const t = await openBaoHarness({
      config: {
        clients: [
          {
            client_id: 'grafana',
            client_secret: SECRET,
            name: 'Grafana',
            redirect_uris: ['http://127.0.0.1:8000/cb'],
            consent: 'implicit',
            require_mfa: true,
          },
        ],
      },
    });
    try {
      // carol has TOTP in OpenBao, but OpenBao does not enforce it: Gatehouse cannot check a code itself.
      t.bao.enforceMfa(false);
      const agent = browser(t.h);
      const { id } = await startInteraction(agent, confidentialParams());
      const next = await submitLogin(agent, id, 'carol', CAROL_PASSWORD);
      assert.equal(next.next, 'redirect');
      const back = new URL((await agent.get(local(next.next === 'redirect' ? next.location : '')).expect(303)).headers.location!);
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.match(back.searchParams.get('error_description') ?? '', /second factor/);
      assert.equal(back.searchParams.get('code'), null);

      // Signed in to the portal already (no code asked): the application asks for a sign-in again,
      // and when that asks for no code either, the answer is the same.
      const portal = browser(t.h);
      await portal.post('/api/v1/session').set(csrf).send({ username: 'carol', password: CAROL_PASSWORD }).expect(200);
      const stepUp = await startInteraction(portal, confidentialParams());
      assert.equal(stepUp.screen, '/login');
      const refused = await submitLogin(portal, stepUp.id, 'carol', CAROL_PASSWORD);
      assert.equal(refused.next, 'redirect');
      const denied = new URL((await portal.get(local(refused.next === 'redirect' ? refused.location : '')).expect(303)).headers.location!);
      assert.equal(denied.searchParams.get('error'), 'access_denied');

      // With OpenBao enforcing it, the same sign-in goes through with the code.
      t.bao.enforceMfa(true);
      t.advance(30);
      const again = browser(t.h);
      const second = await startInteraction(again, confidentialParams());
      assert.deepEqual(await submitLogin(again, second.id, 'carol', CAROL_PASSWORD), { next: 'mfa' });
      const done = await again
        .post(`/api/v1/interactions/${second.id}/mfa`)
        .set(csrf)
        .send({ code: t.bao.totp(t.carol.secret) })
        .expect(200);
      assert.equal(done.body.next, 'redirect');
      const code = new URL((await again.get(local(done.body.location)).expect(303)).headers.location!).searchParams.get('code');
      assert.ok(code);
    } finally {
      await t.close();
    }
  });
});
