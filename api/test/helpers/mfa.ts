import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { RecoveryCodes, TotpEnrolment } from '@gatehouse/shared';
import { setMember } from './directory.js';
import { ALICE_ID, PASSWORD, browser, csrf, type Agent, type Harness } from './harness.js';

/** A TOTP code for the harness clock, `steps` time steps away. */
export function totp(h: Harness, secret: string, steps = 0): Promise<string> {
  return generate({ secret, epoch: h.clock.now() + steps * 30 });
}

/** Signs alice in to the portal in a new browser (password only; she has no TOTP yet). */
export async function portalBrowser(h: Harness, username = 'alice', password = PASSWORD): Promise<Agent> {
  const agent = browser(h);
  const res = await agent.post('/api/v1/session').set(csrf).send({ username, password }).expect(200);
  assert.equal(res.body.status, 'signed_in');
  return agent;
}

/** Enrols TOTP for the agent's user; answers the secret and the recovery codes. */
export async function enrolTotp(h: Harness, agent: Agent): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrolment = TotpEnrolment.parse((await agent.post('/api/v1/me/mfa/totp').set(csrf).expect(200)).body);
  const confirmed = await agent
    .post('/api/v1/me/mfa/totp/confirm')
    .set(csrf)
    .send({ code: await totp(h, enrolment.secret) })
    .expect(200);
  // The enrolment code's step is now used: later codes in tests come from the next steps.
  h.clock.advance(30);
  return { secret: enrolment.secret, recoveryCodes: RecoveryCodes.parse(confirmed.body).recoveryCodes };
}

/**
 * Gives alice a second factor she must use at every sign-in, on either backend: TOTP enrolled
 * through the portal on the embedded store; on OpenBao a TOTP secret on her entity and membership
 * of the group OpenBao's login MFA enforcement targets. `turnOff` undoes it.
 */
export async function secondFactorFor(h: Harness): Promise<{ secret: string; turnOff(): Promise<void> }> {
  const { bao } = h;
  if (!bao) {
    const { secret } = await enrolTotp(h, await portalBrowser(h));
    return { secret, turnOff: () => h.ctx.identity.mfa.disableTotp(ALICE_ID) };
  }
  const secret = bao.enrolTotp('alice');
  await setMember(h, 'two-factor', ALICE_ID, true);
  return {
    secret,
    async turnOff() {
      await h.ctx.identity.mfa.disableTotp(ALICE_ID);
      await setMember(h, 'two-factor', ALICE_ID, false);
    },
  };
}
