import type { Clock } from '../lib/clock.js';
import type { MfaRepo } from '../storage/mfa.js';

export interface RegulationPolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** The longest delay, in seconds. */
  maxDelay: number;
  /** Failures older than this (seconds) are forgotten. */
  memory: number;
}

/**
 * Makes guessing expensive without letting a stranger lock an account: after the free
 * failures, each further failure doubles a waiting time (1 s, 2 s, 4 s … up to maxDelay).
 * Keys are the login name as typed (so unknown and known users behave alike) or a user id.
 */
export class Regulator {
  constructor(
    private readonly repo: MfaRepo,
    private readonly clock: Clock,
    private readonly policy: RegulationPolicy,
  ) {}

  /** Seconds until the key may try again; 0 when it may now. */
  async waitFor(key: string): Promise<number> {
    const t = await this.repo.findThrottle(key);
    return t ? Math.max(0, t.blockedUntil - this.clock.now()) : 0;
  }

  /** Counts a failure; says how long the key must now wait and whether that wait is new. */
  async fail(key: string): Promise<{ wait: number; failures: number }> {
    const now = this.clock.now();
    const previous = await this.repo.findThrottle(key);
    const failures = previous && now - previous.lastFailureAt < this.policy.memory ? previous.failures + 1 : 1;
    const over = failures - this.policy.freeFailures;
    const wait = over > 0 ? Math.min(2 ** (over - 1), this.policy.maxDelay) : 0;
    await this.repo.saveThrottle(key, { failures, lastFailureAt: now, blockedUntil: now + wait });
    return { wait, failures };
  }

  async succeed(key: string): Promise<void> {
    await this.repo.clearThrottle(key);
  }
}

export const loginKey = (login: string) => `login:${login.trim().toLowerCase()}`;
export const mfaKey = (userId: string) => `mfa:${userId}`;
