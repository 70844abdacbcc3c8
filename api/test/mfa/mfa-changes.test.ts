import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ApiErrorBody, MfaStatus, RecoveryCodes, TotpEnrolment } from '@gatehouse/shared';
import {
  ALICE_ID,
  PASSWORD,
  SECRET,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  startInteraction,
  submitLogin,
  type Agent,
  type Harness,
} from '../helpers/harness.js';
import { enrolTotp, portalBrowser, totp } from '../helpers/mfa.js';

const TEN_MINUTES = 10 * 60;

/** grafana may be given profile:write; vault only takes sessions with a second factor. */
const CLIENTS = {
  clients: [
    {
      client_id: 'grafana',
      client_secret: SECRET,
      name: 'Grafana',
      redirect_uris: ['http://127.0.0.1:8000/cb'],
      consent: 'implicit' as const,
      scopes: ['openid', 'profile:read', 'profile:write'],
    },
    {
      client_id: 'vault',
      client_secret: SECRET,
      name: 'Vault',
      redirect_uris: ['http://127.0.0.1:8000/cb'],
      consent: 'implicit' as const,
      require_mfa: true,
    },
  ],
};

/** A bearer credential of alice's with profile:write: a personal API token or an access token. */
async function bearerToken(h: Harness, agent: Agent, via: 'api_token' | 'access_token'): Promise<string> {
  if (via === 'api_token') {
    const res = await agent
      .post('/api/v1/me/tokens')
      .set(csrf)
      .send({ name: 'cli', scopes: ['profile:write'], expiresInDays: 1 });
    return res.body.token as string;
  }
  const url = await authorize(browser(h), confidentialParams({ scope: 'openid profile:write' }));
  const token = (await redeem(h, url.searchParams.get('code')!).expect(200)).body;
  assert.match(token.scope, /profile:write/);
  return token.access_token as string;
}

const status = async (agent: Agent) => MfaStatus.parse((await agent.get('/api/v1/me/mfa').expect(200)).body).totp;

const errorCode = (res: { body: unknown }) => ApiErrorBody.parse(res.body).error.code;

/** alice's stored recovery-code hashes, to see that nothing replaced them. */
function recoveryCodeRows(h: Harness): Promise<{ code_hash: string; used_at: number | null }[]> {
  const raw = h.ctx.storage.mfa as unknown as {
    db: {
      selectFrom(t: string): {
        selectAll(): { orderBy(c: string): { execute(): Promise<{ code_hash: string; used_at: number | null }[]> } };
      };
    };
  };
  return raw.db.selectFrom('recovery_codes').selectAll().orderBy('code_hash').execute();
}

/** Counts password checks from here on. */
function countPasswordChecks(h: Harness): { readonly count: number } {
  const original = h.ctx.identity.authenticate.bind(h.ctx.identity);
  const counter = { count: 0 };
  h.ctx.identity.authenticate = (login, password) => {
    counter.count++;
    return original(login, password);
  };
  return counter;
}

/** The session cookies a response sets. */
function sessionCookies(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'];
  const cookies = header === undefined ? [] : Array.isArray(header) ? (header as string[]) : [String(header)];
  return cookies.filter((c) => c.startsWith('gatehouse_session='));
}

const refusals = (h: Harness, via: string) => h.audit.filter((l) => l.includes('event=mfa_change_refused') && l.includes(`via=${via}`));

describe('changing a second factor', () => {
  for (const via of ['api_token', 'access_token'] as const) {
    it(`refuses all four changes to ${via === 'api_token' ? 'a personal API token' : 'an access token'} with profile:write, changes nothing and audits it`, async () => {
      const h = await harness(CLIENTS);
      try {
        const agent = await portalBrowser(h);
        const auth = { Authorization: `Bearer ${await bearerToken(h, agent, via)}` };
        const checks = countPasswordChecks(h);

        const start = await request(h.app).post('/api/v1/me/mfa/totp').set(auth).send({ password: PASSWORD }).expect(403);
        assert.equal(errorCode(start), 'session_required');
        const confirm = await request(h.app).post('/api/v1/me/mfa/totp/confirm').set(auth).send({ code: '123456' }).expect(403);
        assert.equal(errorCode(confirm), 'session_required');
        assert.deepEqual(await status(agent), { enabled: false, recoveryCodesLeft: 0 });
        assert.equal(await h.ctx.storage.mfa.findTotp(ALICE_ID), undefined, 'no enrolment was started');

        const { secret } = await enrolTotp(h, agent);
        const rows = await recoveryCodeRows(h);
        const proof = { password: PASSWORD, code: await totp(h, secret) };
        const disable = await request(h.app).post('/api/v1/me/mfa/totp/disable').set(auth).send(proof).expect(403);
        assert.equal(errorCode(disable), 'session_required');
        const codes = await request(h.app).post('/api/v1/me/mfa/recovery-codes').set(auth).send(proof).expect(403);
        assert.equal(errorCode(codes), 'session_required');

        assert.deepEqual(await status(agent), { enabled: true, recoveryCodesLeft: 10 });
        assert.deepEqual(await recoveryCodeRows(h), rows, 'the recovery codes are the same');
        assert.equal(checks.count, 0, 'the password a token sent was never checked');
        const audited = refusals(h, via);
        assert.deepEqual(
          audited.map((l) => /action=(\w+)/.exec(l)?.[1]),
          ['totp_enrol', 'totp_confirm', 'totp_disable', 'recovery_codes'],
        );
        assert.ok(audited.every((l) => l.includes(`user=${ALICE_ID}`) && l.includes('outcome=failure')));
      } finally {
        await h.close();
      }
    });
  }

  it('asks a session that signed in ten minutes ago for the password, and a wrong one changes nothing', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      h.clock.advance(TEN_MINUTES);

      const stale = await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(403);
      assert.equal(errorCode(stale), 'reauthentication_required');
      assert.equal(refusals(h, 'session').length, 1);
      assert.match(refusals(h, 'session')[0]!, /action=totp_enrol/);

      const wrong = await agent.post('/api/v1/me/mfa/totp').set(csrf).send({ password: 'not-the-password' }).expect(401);
      assert.equal(errorCode(wrong), 'invalid_credentials');
      assert.ok(h.audit.some((l) => l.includes('event=reauthentication_failure') && l.includes('purpose=totp_enrol')));
      assert.equal(await h.ctx.storage.mfa.findTotp(ALICE_ID), undefined, 'no enrolment was started');

      const enrolment = TotpEnrolment.parse(
        (await agent.post('/api/v1/me/mfa/totp').set(csrf).send({ password: PASSWORD }).expect(200)).body,
      );
      // The password counts as signing in: confirming right after needs it no more.
      const confirmed = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret) })
        .expect(200);
      assert.equal(RecoveryCodes.parse(confirmed.body).recoveryCodes.length, 10);
      assert.deepEqual(await status(agent), { enabled: true, recoveryCodesLeft: 10 });
    } finally {
      await h.close();
    }
  });

  it('confirms without the password when setting up the app took longer than the window, and checks no password sent along', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      h.clock.advance(TEN_MINUTES);
      const checks = countPasswordChecks(h);

      const wrong = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret, 10) });
      assert.equal(errorCode(wrong), 'mfa_failed', 'the code is still checked');
      assert.equal((await status(agent)).enabled, false);
      await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret), password: 'not-the-password' })
        .expect(200);
      assert.equal((await status(agent)).enabled, true);
      assert.equal(checks.count, 0, 'confirming checks no password');
      assert.equal(refusals(h, 'session').length, 0);
    } finally {
      await h.close();
    }
  });

  it('turns TOTP off for a session signed in long ago only with password and code; a wrong password changes nothing', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      const { secret } = await enrolTotp(h, agent);
      h.clock.advance(TEN_MINUTES);
      const rows = await recoveryCodeRows(h);

      const wrong = await agent
        .post('/api/v1/me/mfa/recovery-codes')
        .set(csrf)
        .send({ password: 'nope', code: await totp(h, secret) })
        .expect(401);
      assert.equal(errorCode(wrong), 'invalid_credentials');
      await agent
        .post('/api/v1/me/mfa/totp/disable')
        .set(csrf)
        .send({ password: 'nope', code: await totp(h, secret) })
        .expect(401);
      assert.deepEqual(await status(agent), { enabled: true, recoveryCodesLeft: 10 });
      assert.deepEqual(await recoveryCodeRows(h), rows);

      await agent
        .post('/api/v1/me/mfa/totp/disable')
        .set(csrf)
        .send({ password: PASSWORD, code: await totp(h, secret) })
        .expect(204);
      assert.equal((await status(agent)).enabled, false);
    } finally {
      await h.close();
    }
  });

  it('lets a user enrol without the password right after signing in for an application that requires a second factor', async () => {
    const h = await harness(CLIENTS);
    try {
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams({ client_id: 'vault', scope: 'openid' }));
      assert.deepEqual(await submitLogin(agent, id), { next: 'enrol' });
      const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
      await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret) })
        .expect(200);
      const next = await agent.post(`/api/v1/interactions/${id}/continue`).set(csrf).expect(200);
      assert.equal(next.body.next, 'redirect');
    } finally {
      await h.close();
    }
  });

  it('asks for the password on the enrol screen when the session is an old one', async () => {
    const h = await harness(CLIENTS);
    try {
      const agent = await portalBrowser(h);
      h.clock.advance(TEN_MINUTES);
      const { screen } = await startInteraction(agent, confidentialParams({ client_id: 'vault', scope: 'openid' }));
      assert.equal(screen, '/enrol', 'no new sign-in is asked for');
      assert.equal(errorCode(await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(403)), 'reauthentication_required');
      await agent.post('/api/v1/me/mfa/totp').set(csrf).send({ password: PASSWORD }).expect(200);
    } finally {
      await h.close();
    }
  });

  it('asks for the password once, to start, with ttl.reauthWindow 0; confirming renews the session cookie only to add otp', async () => {
    const h = await harness({ ttl: { reauthWindow: 0 } });
    try {
      const agent = await portalBrowser(h);
      assert.equal(errorCode(await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(403)), 'reauthentication_required');
      const started = await agent.post('/api/v1/me/mfa/totp').set(csrf).send({ password: PASSWORD }).expect(200);
      assert.equal(sessionCookies(started).length, 1, 'the password signs the session in again');
      const enrolment = TotpEnrolment.parse(started.body);

      const checks = countPasswordChecks(h);
      const confirmed = await agent
        .post('/api/v1/me/mfa/totp/confirm')
        .set(csrf)
        .send({ code: await totp(h, enrolment.secret) })
        .expect(200);
      assert.equal(checks.count, 0);
      assert.equal(sessionCookies(confirmed).length, 1, 'one new session cookie, for amr pwd otp');
      const sessions = (await agent.get('/api/v1/me/sessions').expect(200)).body.sessions as { current: boolean; amr: string[] }[];
      assert.deepEqual(sessions.find((x) => x.current)?.amr, ['pwd', 'otp']);
      assert.equal(errorCode(await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(409)), 'mfa_already_enrolled');
    } finally {
      await h.close();
    }
  });
});
