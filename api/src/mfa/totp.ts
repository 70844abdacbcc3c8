import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s. */
export const PERIOD = 30;

/** A new 160-bit secret, base32 (RFC 4226 §4 recommends 160 bits). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(issuer: string, account: string, secret: string): string {
  return generateURI({ issuer, label: account, secret });
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/**
 * Checks a code against the current time step and one step either side. A code whose step
 * is not after the last accepted one is a replay, even if it is otherwise right.
 */
export async function checkTotp(secret: string, code: string, now: number, lastStep: number | null): Promise<TotpCheck> {
  const result = await verify({ secret, token: code, epoch: now, epochTolerance: PERIOD });
  if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'invalid' };
  const step = result.timeStep as number;
  if (lastStep !== null && step <= lastStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step };
}
