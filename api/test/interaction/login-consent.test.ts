import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { CSRF_HEADER, CSRF_HEADER_VALUE, InteractionView, SCOPE_DESCRIPTIONS, type InteractionNext } from '@gatehouse/shared';
import {
  ISSUER,
  PASSWORD,
  authorize,
  authorizeQuery,
  browser,
  confidentialParams,
  csrf,
  harness,
  local,
  pkce,
  redeem,
  resume,
  startInteraction,
  submitConsent,
  submitLogin,
  type Agent,
  type Harness,
  ALICE_ID,
} from '../helpers/harness.js';

const publicParams = (extra: Record<string, string | undefined> = {}) => ({
  client_id: 'cli',
  redirect_uri: 'http://127.0.0.1:9000/callback',
  response_type: 'code',
  scope: 'openid profile',
  state: 'cli-state',
  code_challenge: pkce().challenge,
  code_challenge_method: 'S256',
  ...extra,
});

function assertExpired(res: { status: number; body: unknown }): void {
  assert.equal(res.status, 404);
  assert.equal((res.body as { error: { code: string } }).error.code, 'interaction_expired');
}

/** The URL an interaction step says to resume at. */
function redirectOf(next: InteractionNext): string {
  assert.equal(next.next, 'redirect');
  return (next as { location: string }).location;
}

/** The redirect straight from GET /oauth2/authorize, without any screen in between. */
async function direct(agent: Agent, params: Record<string, string | undefined>): Promise<URL> {
  const res = await agent.get(authorizeQuery(params)).expect(303);
  return new URL(res.headers.location!);
}

async function authTime(h: Harness, code: string | null): Promise<number> {
  assert.ok(code);
  const res = await redeem(h, code).expect(200);
  return decodeJwt(res.body.id_token).auth_time as number;
}

describe('interaction API', () => {
  // Consent is remembered per user, so every test starts from a fresh database.
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  describe('GET /api/v1/interactions/:id', () => {
    it('describes the pending request: client, prompt, scopes and login hint', async () => {
      const agent = browser(h);
      const { id, screen } = await startInteraction(
        agent,
        confidentialParams({ login_hint: 'alice@example.org', scope: 'openid profile email groups unknown' }),
      );
      assert.equal(screen, '/login');
      const res = await agent.get(`/api/v1/interactions/${id}`).expect(200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const view = InteractionView.parse(res.body);
      assert.equal(view.id, id);
      assert.equal(view.prompt, 'login');
      assert.deepEqual(view.client, { id: 'grafana', name: 'Grafana' });
      assert.deepEqual(
        view.scopes,
        (['openid', 'profile', 'email', 'groups'] as const).map((scope) => ({ scope, description: SCOPE_DESCRIPTIONS[scope] })),
      );
      assert.equal(view.loginHint, 'alice@example.org');
      assert.equal(view.user, null);
      assert.equal(view.expiresAt, h.clock.now() + h.ctx.config.ttl.interaction);
    });

    it('is bound to the browser that started it', async () => {
      const { id } = await startInteraction(browser(h), confidentialParams());
      assertExpired(await request(h.app).get(`/api/v1/interactions/${id}`));
      const other = browser(h);
      await startInteraction(other, confidentialParams());
      assertExpired(await other.get(`/api/v1/interactions/${id}`));
      assertExpired(await other.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username: 'alice', password: PASSWORD }));
    });

    it('answers interaction_expired for an unknown id', async () => {
      const agent = browser(h);
      await startInteraction(agent, confidentialParams());
      assertExpired(await agent.get('/api/v1/interactions/no-such-interaction'));
    });

    it('answers interaction_expired once the interaction has expired', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      await agent.get(`/api/v1/interactions/${id}`).expect(200);
      h.clock.advance(h.ctx.config.ttl.interaction + 1);
      assertExpired(await agent.get(`/api/v1/interactions/${id}`));
      assertExpired(await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username: 'alice', password: PASSWORD }));
    });
  });

  describe('login', () => {
    it('answers a wrong password and an unknown username alike, and audits the failure', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      const wrong = await agent
        .post(`/api/v1/interactions/${id}/login`)
        .set(csrf)
        .send({ username: 'alice', password: 'not-the-password' });
      const unknown = await agent
        .post(`/api/v1/interactions/${id}/login`)
        .set(csrf)
        .send({ username: 'mallory', password: 'not-the-password' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'invalid_credentials');
      assert.equal(unknown.status, wrong.status);
      assert.deepEqual(unknown.body, wrong.body);
      assert.ok(
        h.audit.some((l) => l.includes('event=login_failure') && l.includes(`user=${ALICE_ID}`) && l.includes('reason=bad_password')),
      );
      assert.ok(h.audit.some((l) => l.includes('event=login_failure') && l.includes('login=mallory') && l.includes('reason=unknown_user')));
      await agent.get('/api/v1/session').expect(401);
    });

    it('refuses an empty body with validation_failed naming each field', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      const res = await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({}).expect(400);
      assert.equal(res.body.error.code, 'validation_failed');
      const fields = (res.body.error.details as { field: string }[]).map((d) => d.field).sort();
      assert.deepEqual(fields, ['password', 'username']);
    });

    it('refuses a login without the CSRF header or from a foreign origin, and changes nothing', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      const body = { username: 'alice', password: PASSWORD };
      const noHeader = await agent.post(`/api/v1/interactions/${id}/login`).set('Origin', ISSUER).send(body).expect(403);
      assert.equal(noHeader.body.error.code, 'csrf_rejected');
      const foreign = await agent
        .post(`/api/v1/interactions/${id}/login`)
        .set({ ...csrf, Origin: 'https://evil.example' })
        .send(body)
        .expect(403);
      assert.equal(foreign.body.error.code, 'csrf_rejected');
      const crossSite = await agent
        .post(`/api/v1/interactions/${id}/login`)
        .set({ [CSRF_HEADER]: CSRF_HEADER_VALUE, 'Sec-Fetch-Site': 'cross-site' })
        .send(body);
      assert.equal(crossSite.status, 403);

      await agent.get('/api/v1/session').expect(401);
      assert.equal((await agent.get(`/api/v1/interactions/${id}`).expect(200)).body.prompt, 'login');
      assert.deepEqual(await submitLogin(agent, id), { next: 'consent' });
    });
  });

  describe('consent', () => {
    it('asks an explicit client for consent after login, and issues a code once approved', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      assert.deepEqual(await submitLogin(agent, id), { next: 'consent' });
      const view = InteractionView.parse((await agent.get(`/api/v1/interactions/${id}`).expect(200)).body);
      assert.equal(view.prompt, 'consent');
      assert.deepEqual(view.user, { username: 'alice', name: 'Alice Liddell' });
      const location = redirectOf(await submitConsent(agent, id, true));
      assert.equal(location, `${ISSUER}/oauth2/authorize/${id}`);
      const url = await resume(agent, location);
      assert.ok(url.searchParams.get('code'));
      assert.equal(url.searchParams.get('state'), 'state-123');
      assert.ok(h.audit.some((l) => l.includes('event=consent_grant') && l.includes('client=grafana')));
    });

    it('redirects access_denied with the state when the user denies', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      await submitLogin(agent, id);
      const url = await resume(agent, redirectOf(await submitConsent(agent, id, false)));
      assert.equal(url.searchParams.get('error'), 'access_denied');
      assert.equal(url.searchParams.get('state'), 'state-123');
      assert.equal(url.searchParams.get('code'), null);
      // Nothing was remembered: the next request asks again.
      assert.equal((await direct(agent, confidentialParams())).pathname, '/consent');
    });

    it('answers a repeated decision after a denial with the way back, not an error', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      await submitLogin(agent, id);
      await submitConsent(agent, id, false);
      const again = await submitConsent(agent, id, true);
      assert.equal((await resume(agent, redirectOf(again))).searchParams.get('error'), 'access_denied');
      assert.equal((await direct(agent, confidentialParams())).pathname, '/consent');
    });

    it('issues a code without any screen on a second visit by the same browser', async () => {
      const agent = browser(h);
      assert.ok((await authorize(agent, confidentialParams())).searchParams.get('code'));
      const url = await direct(agent, confidentialParams({ state: 'second' }));
      assert.equal(url.origin, 'http://127.0.0.1:8000');
      assert.ok(url.searchParams.get('code'));
      assert.equal(url.searchParams.get('state'), 'second');
    });

    it('asks again for a scope that was never approved, and when prompt=consent', async () => {
      const agent = browser(h);
      assert.ok((await authorize(agent, confidentialParams({ scope: 'openid profile' }))).searchParams.get('code'));
      assert.ok((await direct(agent, confidentialParams({ scope: 'openid profile' }))).searchParams.get('code'));
      assert.ok((await direct(agent, confidentialParams({ scope: 'openid' }))).searchParams.get('code'));

      const widened = await direct(agent, confidentialParams({ scope: 'openid profile email' }));
      assert.equal(widened.pathname, '/consent');
      const forced = await direct(agent, confidentialParams({ scope: 'openid profile', prompt: 'consent' }));
      assert.equal(forced.pathname, '/consent');
      assert.ok(forced.searchParams.get('interaction'));
    });

    it('never asks consent for an implicit client', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, publicParams());
      const next = await submitLogin(agent, id);
      assert.ok((await resume(agent, redirectOf(next))).searchParams.get('code'));
      assert.ok((await direct(agent, publicParams({ prompt: 'consent', scope: 'openid profile email groups' }))).searchParams.get('code'));
    });

    it('refuses consent with 409 login_required when nobody is signed in', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      const res = await agent.post(`/api/v1/interactions/${id}/consent`).set(csrf).send({ approve: true }).expect(409);
      assert.equal(res.body.error.code, 'login_required');
      assert.deepEqual(await submitLogin(agent, id), { next: 'consent' });
    });
  });

  describe('re-authentication', () => {
    it('shows the login screen again for prompt=login and then issues a code', async () => {
      const agent = browser(h);
      await authorize(agent, confidentialParams());
      const { id, screen } = await startInteraction(agent, confidentialParams({ prompt: 'login' }));
      assert.equal(screen, '/login');
      const view = InteractionView.parse((await agent.get(`/api/v1/interactions/${id}`).expect(200)).body);
      assert.equal(view.user?.username, 'alice');
      const next = await submitLogin(agent, id);
      assert.ok((await resume(agent, redirectOf(next))).searchParams.get('code'));
    });

    it('shows the login screen for max_age=0 even right after signing in', async () => {
      const agent = browser(h);
      await authorize(agent, publicParams());
      const { id, screen } = await startInteraction(agent, publicParams({ max_age: '0' }));
      assert.equal(screen, '/login');
      const next = await submitLogin(agent, id);
      assert.ok((await resume(agent, redirectOf(next))).searchParams.get('code'));
    });

    it('shows the login screen when the sign-in is older than max_age, and not when it is recent', async () => {
      const agent = browser(h);
      await authorize(agent, publicParams());
      h.clock.advance(120);
      assert.ok((await direct(agent, publicParams({ max_age: '3600' }))).searchParams.get('code'));
      assert.equal((await direct(agent, publicParams({ max_age: '60' }))).pathname, '/login');
    });

    it('moves auth_time forward in the ID token after a forced re-login', async () => {
      const agent = browser(h);
      const first = await authTime(h, (await authorize(agent, confidentialParams())).searchParams.get('code'));
      assert.equal(first, h.clock.now());
      h.clock.advance(300);
      assert.equal(await authTime(h, (await direct(agent, confidentialParams())).searchParams.get('code')), first);
      const again = await authorize(agent, confidentialParams({ prompt: 'login' }));
      assert.equal(await authTime(h, again.searchParams.get('code')), first + 300);
    });
  });

  describe('abort and resume', () => {
    it('redirects access_denied when the user aborts on the login screen', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      const res = await agent.post(`/api/v1/interactions/${id}/abort`).set(csrf).expect(200);
      assert.equal(res.body.next, 'redirect');
      const url = await resume(agent, res.body.location);
      assert.equal(`${url.origin}${url.pathname}`, 'http://127.0.0.1:8000/cb');
      assert.equal(url.searchParams.get('error'), 'access_denied');
      assert.equal(url.searchParams.get('state'), 'state-123');
    });

    it('redirects access_denied when the user aborts on the consent screen', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      await submitLogin(agent, id);
      const res = await agent.post(`/api/v1/interactions/${id}/abort`).set(csrf).expect(200);
      assert.equal((await resume(agent, res.body.location)).searchParams.get('error'), 'access_denied');
    });

    it('shows an error page, not a redirect, when an interaction is resumed twice', async () => {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      await submitLogin(agent, id);
      const location = redirectOf(await submitConsent(agent, id));
      assert.ok((await resume(agent, location)).searchParams.get('code'));
      const again = await agent.get(local(location));
      assert.equal(again.status, 400);
      assert.match(again.headers['content-type'] ?? '', /^text\/html/);
      assert.equal(again.headers.location, undefined);
      assertExpired(await agent.get(`/api/v1/interactions/${id}`));
    });
  });
});
