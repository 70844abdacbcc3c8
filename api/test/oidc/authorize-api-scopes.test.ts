import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import request from 'supertest';
import {
  ADMIN_PASSWORD,
  CONFIDENTIAL,
  PUBLIC,
  SECRET,
  basic,
  authorizeQuery,
  browser,
  csrf,
  harness,
  itManagingUsers,
  local,
  redeem,
  startInteraction,
  submitLogin,
  type Agent,
  type Harness,
} from '../helpers/harness.js';

/** An explicit-consent client that may ask for API scopes, admin ones included. */
const OPS_CONSOLE = {
  ...CONFIDENTIAL,
  client_id: 'ops-console',
  name: 'Ops console',
  consent: 'explicit' as const,
  scopes: ['openid', 'profile', 'offline_access', 'profile:read', 'admin:read', 'admin:write'],
};

const params = (scope: string) => ({
  client_id: 'ops-console',
  redirect_uri: 'http://127.0.0.1:8000/cb',
  response_type: 'code',
  scope,
  state: 'state-1',
});

async function withOpsConsole(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await harness({ clients: [CONFIDENTIAL, PUBLIC, OPS_CONSOLE] });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

/** Signs in on the consent-needing request; answers the interaction id and what the consent screen shows. */
async function toConsent(agent: Agent, scope: string, username = 'alice', password?: string) {
  const { id } = await startInteraction(agent, params(scope));
  const next = await submitLogin(agent, id, username, password);
  assert.equal(next.next, 'consent');
  const view = await agent.get(`/api/v1/interactions/${id}`).expect(200);
  return { id, shown: (view.body.scopes as { scope: string }[]).map((s) => s.scope) };
}

async function approveAndRedeem(h: Harness, agent: Agent, id: string) {
  const next = await agent.post(`/api/v1/interactions/${id}/consent`).set(csrf).send({ approve: true }).expect(200);
  const back = new URL((await agent.get(local(next.body.location)).expect(303)).headers.location!);
  const code = back.searchParams.get('code');
  assert.ok(code, back.toString());
  return redeem(h, code, { client_id: 'ops-console' }).expect(200);
}

describe('API scopes at the authorization endpoint', () => {
  it('never offers a non-admin the admin scopes on the consent screen, nor puts them in the token', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const { id, shown } = await toConsent(agent, 'openid profile profile:read admin:write');
      assert.deepEqual(shown, ['openid', 'profile', 'profile:read']);
      const tokens = await approveAndRedeem(h, agent, id);
      assert.equal(tokens.body.scope, 'openid profile profile:read');
      assert.equal(decodeJwt(tokens.body.access_token).scope, 'openid profile profile:read');
      // The admin API refuses the token: it never held admin:write.
      await request(h.app).get('/api/v1/admin/users').set('Authorization', `Bearer ${tokens.body.access_token}`).expect(403);
    }));

  it('remembers the consent only for the scopes granted, and asks again for none of the withheld ones', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const { id } = await toConsent(agent, 'openid admin:read');
      await approveAndRedeem(h, agent, id);
      const approved = await h.ctx.storage.consents.scopes((await h.ctx.identity.directory.resolveUser('alice'))!.id, 'ops-console');
      assert.deepEqual(approved.sort(), ['openid']);
      // The same request again: everything alice can hold is approved, so no consent screen.
      const again = await agent.get(authorizeQuery(params('openid admin:read'))).expect(303);
      const back = new URL(again.headers.location!);
      assert.ok(back.searchParams.get('code'), again.headers.location);
    }));

  it('offers an admin the admin scopes and grants them', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const { id, shown } = await toConsent(agent, 'openid admin:write', 'admin', ADMIN_PASSWORD);
      assert.deepEqual(shown, ['openid', 'admin:write']);
      const tokens = await approveAndRedeem(h, agent, id);
      assert.equal(tokens.body.scope, 'openid admin:write');
    }));

  itManagingUsers('leaves an admin scope out of refreshed tokens once the user is no longer an admin', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const alice = (await h.ctx.identity.directory.resolveUser('alice'))!;
      await h.ctx.identity.directory.updateUser(alice.id, { isAdmin: true });
      const { id } = await toConsent(agent, 'openid offline_access admin:read');
      const tokens = await approveAndRedeem(h, agent, id);
      assert.equal(tokens.body.scope, 'openid offline_access admin:read');
      await h.ctx.identity.directory.updateUser(alice.id, { isAdmin: false });
      const refreshed = await request(h.app)
        .post('/oauth2/token')
        .set('Authorization', basic('ops-console', SECRET))
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token })
        .expect(200);
      assert.equal(refreshed.body.scope, 'openid offline_access');
      assert.equal(decodeJwt(refreshed.body.access_token).scope, 'openid offline_access');
    }),
  );

  it('shows no admin scope before anyone has signed in', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, params('openid profile:read admin:write'));
      const view = await agent.get(`/api/v1/interactions/${id}`).expect(200);
      assert.deepEqual(
        (view.body.scopes as { scope: string }[]).map((s) => s.scope),
        ['openid', 'profile:read'],
      );
    }));
});

describe('end-session rate limit', () => {
  it('answers 429 as an error page past the per-IP limit, never a server error', async () => {
    const h = await harness({ rateLimit: { api: 1, windowSeconds: 60 } });
    try {
      const agent = browser(h);
      await agent.get('/oauth2/end_session').expect(303);
      const res = await agent.get('/oauth2/end_session').expect(429);
      assert.match(res.headers['content-type'] ?? '', /text\/html/);
      assert.match(res.text, /temporarily_unavailable/);
      assert.ok(res.headers['retry-after']);
      assert.equal(
        h.audit.some((l) => l.includes('server_error')),
        false,
      );
    } finally {
      await h.close();
    }
  });
});

describe('a consent given during an authorization request', () => {
  it('does not carry over to another user who signs in on the same browser before the request resumes', () =>
    withOpsConsole(async (h) => {
      const agent = browser(h);
      const { id } = await toConsent(agent, 'openid profile');
      const approved = await agent.post(`/api/v1/interactions/${id}/consent`).set(csrf).send({ approve: true }).expect(200);
      // Someone else signs in on this browser (the portal) before the request resumes.
      await agent.post('/api/v1/session').set(csrf).send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
      const resumed = await agent.get(local(approved.body.location)).expect(303);
      const screen = new URL(resumed.headers.location!);
      assert.equal(screen.pathname, '/consent', resumed.headers.location);
      assert.equal(screen.searchParams.get('code'), null);
    }));
});
