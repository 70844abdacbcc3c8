import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.js';
import { SECRET, browser, csrf, harness, type Agent, type Harness } from '../helpers/harness.js';
import { startOpenBaoEmulator, type OpenBaoEmulator, type OpenBaoEmulatorOptions } from './emulator.js';

/** The harness clock's start; the emulator reads the same clock, so both move together. */
const START = 1_800_000_000;

export const CAROL_PASSWORD = 'carol-password-123';
export const OLIVIA_PASSWORD = 'olivia-password-123';
export const DAVE_PASSWORD = 'dave-password-123';

export interface OpenBaoHarness {
  h: Harness;
  bao: OpenBaoEmulator;
  /** carol: staff (nested in employees), TOTP on. */
  carol: { id: string; secret: string };
  /** olivia: gatehouse-admins, TOTP on. */
  olivia: { id: string; secret: string };
  /** dave: no groups, no TOTP secret. */
  dave: { id: string };
  /** Moves Gatehouse and OpenBao forward together. */
  advance(seconds: number): void;
  close(): Promise<void>;
}

/**
 * Gatehouse on the OpenBao backend, in front of the emulator: groups employees ⊃ staff and
 * gatehouse-admins; users carol, olivia (both with TOTP) and dave. The harness still puts its
 * SQLite user alice in the database; on this backend she cannot sign in.
 */
export async function openBaoHarness(
  options: { emulator?: OpenBaoEmulatorOptions; config?: Partial<ConfigInput> } = {},
): Promise<OpenBaoHarness> {
  // The harness (and its clock) is made after the emulator, which needs its address first.
  const ref: { h?: Harness } = {};
  const bao = await startOpenBaoEmulator({
    clock: { now: () => ref.h?.clock.now() ?? START, advance: (s) => ref.h!.clock.advance(s) },
    ...options.emulator,
  });
  bao.addGroup('employees');
  bao.addGroup('staff', { parents: ['employees'] });
  bao.addGroup('gatehouse-admins');
  const carolId = bao.addUser('carol', CAROL_PASSWORD, { name: 'Carol Danvers', email: 'carol@example.org', groups: ['staff'] });
  const oliviaId = bao.addUser('olivia', OLIVIA_PASSWORD, { name: 'Olivia Admin', groups: ['gatehouse-admins'] });
  const daveId = bao.addUser('dave', DAVE_PASSWORD, { name: 'Dave' });
  const carolSecret = bao.enrolTotp('carol');
  const oliviaSecret = bao.enrolTotp('olivia');
  const h = (ref.h = await harness({
    identityBackend: 'openbao',
    openbao: { address: bao.url, token: bao.serviceToken, mfaMethodId: bao.mfaMethodId, requestTimeoutMs: 2000 },
    rateLimit: { login: 1000 },
    clients: [
      {
        client_id: 'grafana',
        client_secret: SECRET,
        name: 'Grafana',
        redirect_uris: ['http://127.0.0.1:8000/cb'],
        consent: 'explicit',
      },
    ],
    ...options.config,
  }));
  assert.equal(h.clock.now(), START);
  const harnessed = h;
  return {
    h: harnessed,
    bao,
    carol: { id: carolId, secret: carolSecret },
    olivia: { id: oliviaId, secret: oliviaSecret },
    dave: { id: daveId },
    advance: (seconds) => harnessed.clock.advance(seconds),
    async close() {
      await harnessed.close();
      await bao.stop();
    },
  };
}

/**
 * Signs a user in to the portal with password and TOTP; answers the browser. Moves time on a
 * step first, so the code is never one an earlier sign-in used.
 */
export async function portalSignIn(t: OpenBaoHarness, username: string, password: string, secret: string): Promise<Agent> {
  t.advance(30);
  const agent = browser(t.h);
  const first = await agent.post('/api/v1/session').set(csrf).send({ username, password }).expect(200);
  assert.equal(first.body.status, 'mfa_required');
  const second = await agent
    .post('/api/v1/session/mfa')
    .set(csrf)
    .send({ code: t.bao.totp(secret) })
    .expect(200);
  assert.equal(second.body.status, 'signed_in');
  return agent;
}
