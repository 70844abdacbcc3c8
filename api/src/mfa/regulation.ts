import type { Clock } from '../lib/clock.js';
import type { MfaRepo, ThrottlePolicy } from '../storage/mfa.js';

export interface RegulationPolicy extends ThrottlePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** The longest delay, in seconds. */
  maxDelay: number;
  /** Failures older than this (seconds) are forgotten. */
  memory: number;
}

/** Whether an attempt may be checked now; a permitted one is already counted as a failure. */
export type Attempt = { allowed: true; failures: number; wait: number } | { allowed: false; wait: number };

/**
 * Makes guessing expensive without letting a stranger lock an account: after the free
 * failures, each further failure doubles a waiting time (1 s, 2 s, 4 s … up to maxDelay).
 * Keys are the login name as typed (so unknown and known users behave alike), that name on a
 * browser that signed in as it before (its device cookie), or a user id.
 *
 * Every attempt is reserved before the password or code is checked: `reserve` counts it as a
 * failure and decides in one database statement whether it may go ahead, so concurrent guesses
 * get no further than sequential ones. `succeed` clears the key; `refund` takes back an attempt
 * that ended without a verdict.
 */
export class Regulator {
  constructor(
    private readonly repo: MfaRepo,
    private readonly clock: Clock,
    private readonly policy: RegulationPolicy,
  ) {}

  /** Counts an attempt unless the key must wait; `wait` is what a failure of it earns, or what is left. */
  async reserve(key: string): Promise<Attempt> {
    const now = this.clock.now();
    const reserved = await this.repo.reserveAttempt(key, now, this.policy);
    if (reserved) return { allowed: true, failures: reserved.failures, wait: reserved.blockedUntil - now };
    const t = await this.repo.findThrottle(key);
    return { allowed: false, wait: Math.max(1, (t?.blockedUntil ?? now) - now) };
  }

  async refund(key: string): Promise<void> {
    await this.repo.refundAttempt(key, this.policy);
  }

  async succeed(key: string): Promise<void> {
    await this.repo.clearThrottle(key);
  }

  /** Deletes forgotten failures, expired second-step challenges and expired device cookies. */
  async purgeExpired(): Promise<void> {
    await this.repo.purgeExpired(this.clock.now(), this.policy.memory);
  }
}

/** A login name as the throttle and device cookies compare it. */
export const loginName = (login: string) => login.trim().toLowerCase();
export const loginKey = (login: string) => `login:${loginName(login)}`;
/** The login name on one known browser (`deviceHash`: SHA-256 of its device cookie). */
export const deviceLoginKey = (login: string, deviceHash: string) => `${loginKey(login)}:device:${deviceHash}`;
export const mfaKey = (userId: string) => `mfa:${userId}`;
/** Proving the password again while signed in: `who` is the browser session, or the user for a token. */
export const reauthKey = (who: string) => `reauth:${who}`;
