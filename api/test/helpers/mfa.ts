import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { RecoveryCodes, TotpEnrolment } from '@gatehouse/shared';
import { PASSWORD, browser, csrf, type Agent, type Harness } from './harness.js';

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
