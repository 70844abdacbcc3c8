import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ConnectedAppList, Profile, SessionList } from '@gatehouse/shared';
import {
  PASSWORD,
  SECRET,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  refreshWith,
  startInteraction,
  ALICE_ID,
  itManagingUsers,
} from '../helpers/harness.js';
import { apiToken, bearer } from '../helpers/admin.js';
import { portalBrowser, secondFactorFor, totp } from '../helpers/mfa.js';

describe('the caller’s own identity (/api/v1/me)', () => {
  // OpenBao keeps the profile in entity metadata, which Gatehouse only reads.
  itManagingUsers('reads and changes the profile; a new email is unverified', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const me = Profile.parse((await agent.get('/api/v1/me').expect(200)).body);
      assert.deepEqual([me.username, me.email, me.emailVerified], ['alice', 'alice@example.org', true]);
      const changed = Profile.parse(
        (await agent.patch('/api/v1/me').set(csrf).send({ name: 'Alice L.', email: 'alice@new.example' }).expect(200)).body,
      );
      assert.deepEqual([changed.name, changed.email, changed.emailVerified], ['Alice L.', 'alice@new.example', false]);
      const same = Profile.parse((await agent.patch('/api/v1/me').set(csrf).send({ nickname: 'al' }).expect(200)).body);
      assert.equal(same.nickname, 'al');
      assert.ok(h.audit.some((l) => l.includes('event=profile_update')));
    } finally {
      await h.close();
    }
  });

  itManagingUsers('refuses an email of another account, an invalid one, and an empty change', async () => {
    const h = await harness();
    try {
      await h.ctx.storage.users.updateProfile(ALICE_ID, { email: 'alice@example.org' }, h.clock.now());
      const admin = await portalBrowser(h, 'admin', 'admin-password-123');
      const taken = await admin.patch('/api/v1/me').set(csrf).send({ email: 'ALICE@example.org' }).expect(409);
      assert.equal(taken.body.error.code, 'conflict');
      await admin.patch('/api/v1/me').set(csrf).send({ email: 'not-an-email' }).expect(400);
      await admin.patch('/api/v1/me').set(csrf).send({}).expect(400);
      await admin.patch('/api/v1/me').set(csrf).send({ isAdmin: true }).expect(400);
    } finally {
      await h.close();
    }
  });

  it('throttles guessing the current password from a signed-in browser, and lets the right one through after the wait', async () => {
    const h = await harness({ throttle: { freeFailures: 2 } });
    try {
      const agent = await portalBrowser(h);
      const change = (currentPassword: string) =>
        agent.post('/api/v1/me/password').set(csrf).send({ currentPassword, newPassword: 'a-brand-new-password' });
      for (let i = 0; i < 3; i++) await change(`guess-${i}`).expect(401);
      const limited = await change(PASSWORD).expect(429);
      assert.equal(limited.body.error.code, 'too_many_attempts');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await h.ctx.identity.authenticate('alice', PASSWORD)).ok, true, 'the password is unchanged');
      h.clock.advance(Number(limited.headers['retry-after']));
      await change(PASSWORD).expect(204);
    } finally {
      await h.close();
    }
  });

  // Gatehouse's own throttle only: on OpenBao, its userpass lockout locks every way in after enough failures.
  itManagingUsers("does not let guessing through a token or another session hold up the owner's own browser", async () => {
    const h = await harness({ throttle: { freeFailures: 2 } });
    try {
      const owner = await portalBrowser(h);
      const thief = await portalBrowser(h);
      const token = bearer(h, await apiToken(h, ALICE_ID, ['profile:write']));
      const body = (currentPassword: string) => ({ currentPassword, newPassword: 'a-brand-new-password' });
      for (let i = 0; i < 4; i++) {
        await thief
          .post('/api/v1/me/password')
          .set(csrf)
          .send(body(`guess-${i}`));
        await token.post('/api/v1/me/password', body(`guess-${i}`));
      }
      assert.equal((await thief.post('/api/v1/me/password').set(csrf).send(body(PASSWORD))).status, 429);
      assert.equal((await token.post('/api/v1/me/password', body(PASSWORD))).status, 429);
      await owner.post('/api/v1/me/password').set(csrf).send(body(PASSWORD)).expect(204);
    } finally {
      await h.close();
    }
  });

  it('changes the password only with the current one, and ends other sessions and tokens', async () => {
    const h = await harness();
    try {
      const url = await authorize(browser(h), confidentialParams({ scope: 'openid offline_access' }));
      const tokens = (await redeem(h, url.searchParams.get('code')!).expect(200)).body;
      const other = await portalBrowser(h);
      const agent = await portalBrowser(h);
      const wrong = await agent
        .post('/api/v1/me/password')
        .set(csrf)
        .send({ currentPassword: 'nope', newPassword: 'a-brand-new-password' })
        .expect(401);
      assert.equal(wrong.body.error.code, 'invalid_credentials');
      await agent.post('/api/v1/me/password').set(csrf).send({ currentPassword: PASSWORD, newPassword: 'short' }).expect(400);

      await agent
        .post('/api/v1/me/password')
        .set(csrf)
        .send({ currentPassword: PASSWORD, newPassword: 'a-brand-new-password' })
        .expect(204);
      assert.equal((await h.ctx.identity.authenticate('alice', 'a-brand-new-password')).ok, true);
      await agent.get('/api/v1/session').expect(200);
      await other.get('/api/v1/session').expect(401);
      assert.equal((await refreshWith(h, tokens.refresh_token).expect(400)).body.error, 'invalid_grant');
      assert.ok(h.audit.some((l) => l.includes('event=password_change')));
    } finally {
      await h.close();
    }
  });

  it('needs a current code to change the password when two-factor is on', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const { secret } = await secondFactorFor(h);
      h.clock.advance(30);
      const body = { currentPassword: PASSWORD, newPassword: 'a-brand-new-password' };
      await agent.post('/api/v1/me/password').set(csrf).send(body).expect(400);
      await agent
        .post('/api/v1/me/password')
        .set(csrf)
        .send({ ...body, code: '000000' })
        .expect(401);
      await agent
        .post('/api/v1/me/password')
        .set(csrf)
        .send({ ...body, code: await totp(h, secret) })
        .expect(204);
    } finally {
      await h.close();
    }
  });

  it('lists sessions with the current one marked, and signs out one or all others', async () => {
    const h = await harness();
    try {
      const first = await portalBrowser(h);
      const second = await portalBrowser(h);
      const agent = await portalBrowser(h);
      const list = SessionList.parse((await agent.get('/api/v1/me/sessions').expect(200)).body);
      assert.equal(list.sessions.length, 3);
      assert.equal(list.sessions.filter((s) => s.current).length, 1);
      const firstId = SessionList.parse((await first.get('/api/v1/me/sessions')).body).sessions.find((s) => s.current)!.id;
      await agent.delete(`/api/v1/me/sessions/${firstId}`).set(csrf).expect(204);
      await first.get('/api/v1/session').expect(401);
      await second.get('/api/v1/session').expect(200);
      await agent.delete('/api/v1/me/sessions').set(csrf).expect(204);
      await second.get('/api/v1/session').expect(401);
      await agent.get('/api/v1/session').expect(200);
      await agent.delete(`/api/v1/me/sessions/${firstId}`).set(csrf).expect(404);
      assert.ok(h.audit.some((l) => l.includes('event=session_revoke')));
    } finally {
      await h.close();
    }
  });

  it('cannot sign out another user’s session', async () => {
    const h = await harness();
    try {
      const alice = await portalBrowser(h);
      const aliceSession = SessionList.parse((await alice.get('/api/v1/me/sessions')).body).sessions[0]!.id;
      const admin = await portalBrowser(h, 'admin', 'admin-password-123');
      await admin.delete(`/api/v1/me/sessions/${aliceSession}`).set(csrf).expect(404);
      await alice.get('/api/v1/session').expect(200);
    } finally {
      await h.close();
    }
  });

  it('lists connected apps and revokes one: the consent goes and its refresh token is refused', async () => {
    const h = await harness();
    try {
      const agent = browser(h);
      const url = await authorize(agent, confidentialParams({ scope: 'openid email offline_access' }));
      const tokens = (await redeem(h, url.searchParams.get('code')!).expect(200)).body;
      const apps = ConnectedAppList.parse((await agent.get('/api/v1/me/apps').expect(200)).body).apps;
      assert.deepEqual(
        apps.map((a) => [a.clientId, a.name]),
        [['grafana', 'Grafana']],
      );
      assert.deepEqual(apps[0]!.scopes, ['openid', 'email', 'offline_access']);
      assert.equal(apps[0]!.lastUsedAt, h.clock.now());

      await agent.delete('/api/v1/me/apps/grafana').set(csrf).expect(204);
      assert.equal((await refreshWith(h, tokens.refresh_token).expect(400)).body.error, 'invalid_grant');
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
      assert.deepEqual((await agent.get('/api/v1/me/apps')).body.apps, []);
      await agent.delete('/api/v1/me/apps/grafana').set(csrf).expect(404);
      assert.ok(h.audit.some((l) => l.includes('event=consent_revoke') && l.includes('client=grafana')));
    } finally {
      await h.close();
    }
  });

  it('works with a personal token within its scopes', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const reader = (
        await agent
          .post('/api/v1/me/tokens')
          .set(csrf)
          .send({ name: 'r', scopes: ['profile:read'], expiresInDays: 1 })
          .expect(201)
      ).body.token;
      const writer = (
        await agent
          .post('/api/v1/me/tokens')
          .set(csrf)
          .send({ name: 'w', scopes: ['profile:write'], expiresInDays: 1 })
          .expect(201)
      ).body.token;
      const as = (token: string) => ({ Authorization: `Bearer ${token}` });
      await request(h.app).get('/api/v1/me').set(as(reader)).expect(200);
      const sessions = SessionList.parse((await request(h.app).get('/api/v1/me/sessions').set(as(reader)).expect(200)).body).sessions;
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]!.current, false, 'a token call has no current session');
      const browserSession = `/api/v1/me/sessions/${sessions[0]!.id}`;
      const denied = await request(h.app).delete(browserSession).set(as(reader)).expect(403);
      assert.equal(denied.body.error.code, 'insufficient_scope');
      await agent.get('/api/v1/session').expect(200);
      await request(h.app).delete(browserSession).set(as(writer)).expect(204);
      await agent.get('/api/v1/session').expect(401);
    } finally {
      await h.close();
    }
  });

  it('works with a Gatehouse access token that carries API scopes the client may request', async () => {
    const h = await harness({
      clients: [
        {
          client_id: 'grafana',
          client_secret: SECRET,
          name: 'Grafana',
          redirect_uris: ['http://127.0.0.1:8000/cb'],
          consent: 'explicit',
          scopes: ['openid', 'profile:read'],
        },
      ],
    });
    try {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams({ scope: 'openid profile:read profile:write' }));
      await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
      const view = (await agent.get(`/api/v1/interactions/${id}`)).body;
      assert.deepEqual(
        view.scopes.map((s: { scope: string }) => s.scope),
        ['openid', 'profile:read'],
        'a scope the client may not have is dropped',
      );
      assert.equal(view.scopes[1].description, 'Read your profile, sessions and connected apps');
      const url = await authorize(agent, confidentialParams({ scope: 'openid profile:read' }));
      const { access_token, scope } = (await redeem(h, url.searchParams.get('code')!).expect(200)).body;
      assert.equal(scope, 'openid profile:read');
      const me = await request(h.app).get('/api/v1/me').set('Authorization', `Bearer ${access_token}`).expect(200);
      assert.equal(me.body.username, 'alice');
      await request(h.app).patch('/api/v1/me').set('Authorization', `Bearer ${access_token}`).send({ name: 'x' }).expect(403);
    } finally {
      await h.close();
    }
  });
});
