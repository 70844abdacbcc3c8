import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { InteractionView } from '@gatehouse/shared';
import {
  PASSWORD,
  SECRET,
  authorizeQuery,
  browser,
  confidentialParams,
  csrf,
  harness,
  local,
  redeem,
  startInteraction,
  type Agent,
  type Harness,
  ALICE_ID,
} from '../helpers/harness.js';
import { enrolTotp, portalBrowser, totp } from '../helpers/mfa.js';

/** A client that only takes sessions with a second factor. */
const VAULT = {
  client_id: 'vault',
  client_secret: SECRET,
  name: 'Vault',
  redirect_uris: ['http://127.0.0.1:8000/cb'],
  consent: 'implicit' as const,
  require_mfa: true,
};

/** alice with TOTP on; grafana's consent is implicit here, so a code follows the second factor. */
async function withTotp(overrides = {}) {
  const h = await harness({
    rateLimit: { login: 1000 },
    clients: [
      { client_id: 'grafana', client_secret: SECRET, name: 'Grafana', redirect_uris: ['http://127.0.0.1:8000/cb'], consent: 'implicit' },
      VAULT,
    ],
    ...overrides,
  });
  const { secret, recoveryCodes } = await enrolTotp(h, await portalBrowser(h));
  return { h, secret, recoveryCodes };
}

async function passwordStep(agent: Agent, params = confidentialParams()) {
  const { id } = await startInteraction(agent, params);
  const res = await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
  return { id, next: res.body, cookies: String(res.headers['set-cookie'] ?? '') };
}

async function finish(h: Harness, agent: Agent, location: string, clientId = 'grafana'): Promise<Record<string, unknown>> {
  const callback = new URL((await agent.get(local(location)).expect(303)).headers.location!);
  const code = callback.searchParams.get('code');
  assert.ok(code, `expected a code: ${callback}`);
  return decodeJwt((await redeem(h, code, { client_id: clientId }).expect(200)).body.id_token) as Record<string, unknown>;
}

describe('the second factor at sign-in', () => {
  it('asks for a code after the password, without a session yet, and signs in with pwd+otp', async () => {
    const { h, secret } = await withTotp();
    try {
      const agent = browser(h);
      const { id, next, cookies } = await passwordStep(agent);
      assert.deepEqual(next, { next: 'mfa' });
      assert.doesNotMatch(cookies, /gatehouse_session=/, 'no session before the second factor');
      assert.equal(InteractionView.parse((await agent.get(`/api/v1/interactions/${id}`)).body).prompt, 'mfa');
      await agent.get('/api/v1/session').expect(401);

      const wrong = await agent.post(`/api/v1/interactions/${id}/mfa`).set(csrf).send({ code: '000000' }).expect(401);
      assert.equal(wrong.body.error.code, 'mfa_failed');
      const ok = await agent
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(200);
      assert.equal(ok.body.next, 'redirect');
      const idToken = await finish(h, agent, ok.body.location);
      assert.deepEqual(idToken.amr, ['pwd', 'otp']);
      for (const event of ['mfa_challenge', 'mfa_failure', 'mfa_success', 'login_success']) {
        assert.ok(
          h.audit.some((l) => l.includes(`event=${event}`)),
          event,
        );
      }
    } finally {
      await h.close();
    }
  });

  it('accepts a code from the step before or after, and refuses one two steps away', async () => {
    const { h, secret } = await withTotp();
    try {
      for (const [steps, status] of [
        [-2, 401],
        [2, 401],
        [-1, 200],
        [1, 200],
      ] as const) {
        h.clock.advance(120);
        const agent = browser(h);
        const { id } = await passwordStep(agent);
        await agent
          .post(`/api/v1/interactions/${id}/mfa`)
          .set(csrf)
          .send({ code: await totp(h, secret, steps) })
          .expect(status);
      }
    } finally {
      await h.close();
    }
  });

  it('refuses a replayed code, even in another browser', async () => {
    const { h, secret } = await withTotp();
    try {
      const code = await totp(h, secret);
      const first = browser(h);
      await first
        .post(`/api/v1/interactions/${(await passwordStep(first)).id}/mfa`)
        .set(csrf)
        .send({ code })
        .expect(200);
      const second = browser(h);
      const replay = await second
        .post(`/api/v1/interactions/${(await passwordStep(second)).id}/mfa`)
        .set(csrf)
        .send({ code })
        .expect(401);
      assert.equal(replay.body.error.code, 'mfa_failed');
      assert.ok(h.audit.some((l) => l.includes('event=mfa_failure') && l.includes('reason=replayed')));
    } finally {
      await h.close();
    }
  });

  it('accepts each recovery code once, in place of a TOTP code', async () => {
    const { h, recoveryCodes } = await withTotp();
    try {
      const agent = browser(h);
      const { id } = await passwordStep(agent);
      const ok = await agent
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ recoveryCode: recoveryCodes[3]!.toLowerCase() })
        .expect(200);
      assert.deepEqual((await finish(h, agent, ok.body.location)).amr, ['pwd', 'otp']);
      assert.ok(h.audit.some((l) => l.includes('event=recovery_code_used') && l.includes('left=9')));

      const again = browser(h);
      const second = await passwordStep(again);
      await again.post(`/api/v1/interactions/${second.id}/mfa`).set(csrf).send({ recoveryCode: recoveryCodes[3] }).expect(401);
    } finally {
      await h.close();
    }
  });

  it('keeps the challenge in the browser that entered the password', async () => {
    const { h, secret } = await withTotp();
    try {
      const { id } = await passwordStep(browser(h));
      const stranger = browser(h);
      await stranger
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(404);
      const portal = await stranger
        .post('/api/v1/session/mfa')
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(409);
      assert.equal(portal.body.error.code, 'login_required');
    } finally {
      await h.close();
    }
  });

  it('voids the challenge after five wrong codes, so the password is needed again', async () => {
    const { h, secret } = await withTotp();
    try {
      const agent = browser(h);
      const { id } = await passwordStep(agent);
      for (let i = 0; i < 4; i++) await agent.post(`/api/v1/interactions/${id}/mfa`).set(csrf).send({ code: '000000' }).expect(401);
      h.clock.advance(60);
      const fifth = await agent.post(`/api/v1/interactions/${id}/mfa`).set(csrf).send({ code: '000000' }).expect(401);
      assert.equal(fifth.body.error.code, 'login_required');
      h.clock.advance(60);
      const late = await agent
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(409);
      assert.equal(late.body.error.code, 'login_required');
      assert.equal((await agent.get(`/api/v1/interactions/${id}`).expect(200)).body.prompt, 'login', 'the screen is the password again');
    } finally {
      await h.close();
    }
  });

  it('goes back to the password screen when the challenge expires', async () => {
    const { h } = await withTotp();
    try {
      const agent = browser(h);
      const { id } = await passwordStep(agent);
      assert.equal((await agent.get(`/api/v1/interactions/${id}`)).body.prompt, 'mfa');
      h.clock.advance(5 * 60 + 1);
      assert.equal((await agent.get(`/api/v1/interactions/${id}`)).body.prompt, 'login');
    } finally {
      await h.close();
    }
  });

  it('forces password and code again for prompt=login', async () => {
    const { h, secret } = await withTotp();
    try {
      const agent = browser(h);
      const first = await passwordStep(agent);
      const done = await agent
        .post(`/api/v1/interactions/${first.id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(200);
      await finish(h, agent, done.body.location);
      h.clock.advance(60);
      const again = await passwordStep(agent, confidentialParams({ prompt: 'login' }));
      assert.deepEqual(again.next, { next: 'mfa' });
    } finally {
      await h.close();
    }
  });

  it('signs in to the portal in two steps', async () => {
    const { h, secret } = await withTotp();
    try {
      const agent = browser(h);
      const first = await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
      assert.deepEqual(first.body, { status: 'mfa_required' });
      await agent.get('/api/v1/session').expect(401);
      const second = await agent
        .post('/api/v1/session/mfa')
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(200);
      assert.equal(second.body.status, 'signed_in');
      await agent.get('/api/v1/session').expect(200);
    } finally {
      await h.close();
    }
  });
});

describe('applications that require a second factor', () => {
  const vault = () => confidentialParams({ client_id: 'vault' });

  it('leads a user without TOTP to enrol, then continues with amr pwd+otp', async () => {
    const h = await harness({
      rateLimit: { login: 1000 },
      clients: [VAULT],
    });
    try {
      const agent = browser(h);
      const { id, next } = await passwordStep(agent, vault());
      assert.deepEqual(next, { next: 'enrol' });
      assert.deepEqual((await agent.post(`/api/v1/interactions/${id}/continue`).set(csrf).expect(200)).body, { next: 'enrol' });
      const resumed = await agent.get(`/oauth2/authorize/${id}`).expect(303);
      assert.match(resumed.headers.location ?? '', /\/enrol\?interaction=/, 'no code without the second factor');
      await enrolTotp(h, agent);
      const cont = await agent.post(`/api/v1/interactions/${id}/continue`).set(csrf).expect(200);
      assert.equal(cont.body.next, 'redirect');
      assert.deepEqual((await finish(h, agent, cont.body.location, 'vault')).amr, ['pwd', 'otp']);
    } finally {
      await h.close();
    }
  });

  it('steps up a password-only session of a user who has TOTP', async () => {
    const { h, secret } = await withTotp();
    try {
      await h.ctx.identity.mfa.disableTotp(ALICE_ID);
      const agent = browser(h);
      await agent.post('/api/v1/session').set(csrf).send({ username: 'alice', password: PASSWORD }).expect(200);
      const other = await portalBrowser(h);
      const { secret: newSecret } = await enrolTotp(h, other);
      assert.notEqual(newSecret, secret);

      const { id, screen } = await startInteraction(agent, vault());
      assert.equal(screen, '/mfa');
      const ok = await agent
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, newSecret) })
        .expect(200);
      assert.deepEqual((await finish(h, agent, ok.body.location, 'vault')).amr, ['pwd', 'otp']);
    } finally {
      await h.close();
    }
  });

  it('answers interaction_required to prompt=none when the session lacks a second factor', async () => {
    const h = await harness({
      clients: [VAULT],
    });
    try {
      const agent = await portalBrowser(h);
      const res = await agent.get(authorizeQuery({ ...vault(), prompt: 'none' })).expect(303);
      assert.equal(new URL(res.headers.location!).searchParams.get('error'), 'interaction_required');
    } finally {
      await h.close();
    }
  });
});
