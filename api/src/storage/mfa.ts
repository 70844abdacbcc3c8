import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.js';

export interface TotpCredential {
  userId: string;
  /** Sealed with the instance secret key. */
  sealedSecret: string;
  /** Null while enrolment waits for the first correct code. */
  confirmedAt: number | null;
  /** The last accepted time step; codes of this step or earlier are replays. */
  lastStep: number | null;
}

export interface LoginChallenge {
  id: string;
  browserHash: string;
  userId: string;
  interactionId: string | null;
  remember: boolean;
  failures: number;
  expiresAt: number;
  /** Sealed backend state for finishing the login; null for the SQLite store. */
  backendState: string | null;
  /** The upstream the first step was made at (federation); null when it was the password. */
  idp: string | null;
}

export interface Throttle {
  /** Attempts counted against the key: failures, and attempts still being checked. */
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** How failures turn into waiting; see mfa/regulation.ts. */
export interface ThrottlePolicy {
  freeFailures: number;
  maxDelay: number;
  memory: number;
}

/** A browser that signed in before, found by the SHA-256 of its device cookie. */
export interface DeviceCookie {
  hash: string;
  userId: string;
  /** The login name it was earned with, trimmed and lower-cased. */
  login: string;
  expiresAt: number;
}

/**
 * The wait (seconds) after `failures` counted attempts, as SQL, so that counting an attempt and
 * deciding whether it may go ahead are one statement: none for the free ones, then 1, 2, 4 …
 * up to maxDelay.
 */
function backoff(failures: RawBuilder<number>, p: ThrottlePolicy): RawBuilder<number> {
  const over = sql<number>`(${failures} - ${p.freeFailures})`;
  return sql<number>`(CASE WHEN ${over} <= 0 THEN 0 WHEN ${over} > 30 THEN ${p.maxDelay} ELSE min(1 << (${over} - 1), ${p.maxDelay}) END)`;
}

/** TOTP credentials, recovery codes, second-factor challenges, sign-in throttling and device cookies. */
export class MfaRepo {
  constructor(private readonly db: Db) {}

  async findTotp(userId: string): Promise<TotpCredential | undefined> {
    const r = await this.db.selectFrom('totp_credentials').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return r && { userId: r.user_id, sealedSecret: r.secret, confirmedAt: r.confirmed_at, lastStep: r.last_step };
  }

  /** Starts (or restarts) an enrolment; refuses to replace a confirmed credential. */
  async savePendingTotp(userId: string, sealedSecret: string, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('totp_credentials')
      .values({ user_id: userId, secret: sealedSecret, confirmed_at: null, last_step: null, created_at: now })
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({ secret: sealedSecret, created_at: now, last_step: null }).where('confirmed_at', 'is', null),
      )
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Confirms the enrolment and stores its recovery codes, in one transaction. */
  async confirmTotp(userId: string, step: number, recoveryHashes: string[], now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('totp_credentials').set({ confirmed_at: now, last_step: step }).where('user_id', '=', userId).execute();
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      // A backend without recovery codes (OpenBao) confirms with none.
      if (recoveryHashes.length === 0) return;
      await trx
        .insertInto('recovery_codes')
        .values(recoveryHashes.map((h) => ({ user_id: userId, code_hash: h, used_at: null })))
        .execute();
    });
  }

  /** Records an accepted step; false if a concurrent request accepted this step or a later one. */
  async advanceStep(userId: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('totp_credentials')
      .set({ last_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async deleteTotp(userId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('totp_credentials').where('user_id', '=', userId).execute();
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    });
  }

  async replaceRecoveryCodes(userId: string, hashes: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await trx
        .insertInto('recovery_codes')
        .values(hashes.map((h) => ({ user_id: userId, code_hash: h, used_at: null })))
        .execute();
    });
  }

  /** Marks an unused recovery code used; false when it does not exist or was used already. */
  async consumeRecoveryCode(userId: string, hash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async insertChallenge(c: LoginChallenge, now: number): Promise<void> {
    await this.db
      .insertInto('login_challenges')
      .values({
        id: c.id,
        browser_hash: c.browserHash,
        user_id: c.userId,
        interaction_id: c.interactionId,
        remember: c.remember ? 1 : 0,
        failures: 0,
        created_at: now,
        expires_at: c.expiresAt,
        backend_state: c.backendState,
        idp: c.idp,
      })
      .execute();
  }

  /** The newest live challenge of this browser for this interaction (or for the portal: null). */
  async findChallenge(browserHash: string, interactionId: string | null, now: number): Promise<LoginChallenge | undefined> {
    let q = this.db
      .selectFrom('login_challenges')
      .selectAll()
      .where('browser_hash', '=', browserHash)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .limit(1);
    q = interactionId === null ? q.where('interaction_id', 'is', null) : q.where('interaction_id', '=', interactionId);
    const r = await q.executeTakeFirst();
    return (
      r && {
        id: r.id,
        browserHash: r.browser_hash,
        userId: r.user_id,
        interactionId: r.interaction_id,
        remember: r.remember === 1,
        failures: r.failures,
        expiresAt: r.expires_at,
        backendState: r.backend_state,
        idp: r.idp,
      }
    );
  }

  async countChallengeFailure(id: string): Promise<number> {
    await this.db
      .updateTable('login_challenges')
      .set((eb) => ({ failures: eb('failures', '+', 1) }))
      .where('id', '=', id)
      .execute();
    const r = await this.db.selectFrom('login_challenges').select('failures').where('id', '=', id).executeTakeFirst();
    return r?.failures ?? 0;
  }

  async deleteChallenge(id: string): Promise<void> {
    await this.db.deleteFrom('login_challenges').where('id', '=', id).execute();
  }

  async findThrottle(key: string): Promise<Throttle | undefined> {
    const r = await this.db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
    return r && { failures: r.failures, lastFailureAt: r.last_failure_at, blockedUntil: r.blocked_until };
  }

  /**
   * Counts an attempt against the key before it is checked, in one statement: unless the key
   * must still wait, the count goes up and the wait it now earns is set. Concurrent attempts
   * are counted one by one, so no more get through than sequential ones would. Undefined
   * (nothing counted) while the key must wait.
   */
  async reserveAttempt(key: string, now: number, p: ThrottlePolicy): Promise<Throttle | undefined> {
    const failures = sql<number>`(CASE WHEN login_throttle.last_failure_at > ${now - p.memory} THEN login_throttle.failures + 1 ELSE 1 END)`;
    const r = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, last_failure_at: now, blocked_until: sql<number>`${now} + ${backoff(sql<number>`1`, p)}` })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ failures, last_failure_at: now, blocked_until: sql<number>`${now} + ${backoff(failures, p)}` })
          .where('login_throttle.blocked_until', '<=', now),
      )
      .returning(['failures', 'last_failure_at', 'blocked_until'])
      .executeTakeFirst();
    return r && { failures: r.failures, lastFailureAt: r.last_failure_at, blockedUntil: r.blocked_until };
  }

  /** Takes back an attempt that ended without a verdict (the backend could not be asked). */
  async refundAttempt(key: string, p: ThrottlePolicy): Promise<void> {
    const failures = sql<number>`(login_throttle.failures - 1)`;
    await this.db
      .updateTable('login_throttle')
      .set({ failures, blocked_until: sql<number>`login_throttle.last_failure_at + ${backoff(failures, p)}` })
      .where('key', '=', key)
      .where('failures', '>', 0)
      .execute();
  }

  async clearThrottle(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }

  async findDeviceCookie(hash: string, now: number): Promise<DeviceCookie | undefined> {
    const r = await this.db
      .selectFrom('device_cookies')
      .selectAll()
      .where('token_hash', '=', hash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return r && { hash: r.token_hash, userId: r.user_id, login: r.login, expiresAt: r.expires_at };
  }

  async insertDeviceCookie(d: DeviceCookie, now: number): Promise<void> {
    await this.db
      .insertInto('device_cookies')
      .values({ token_hash: d.hash, user_id: d.userId, login: d.login, created_at: now, expires_at: d.expiresAt })
      .execute();
  }

  async extendDeviceCookie(hash: string, expiresAt: number): Promise<void> {
    await this.db.updateTable('device_cookies').set({ expires_at: expiresAt }).where('token_hash', '=', hash).execute();
  }

  async deleteDeviceCookie(hash: string): Promise<void> {
    await this.db.deleteFrom('device_cookies').where('token_hash', '=', hash).execute();
  }

  async purgeExpired(now: number, throttleMemory: number): Promise<void> {
    await this.db.deleteFrom('login_challenges').where('expires_at', '<=', now).execute();
    await this.db
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<=', now - throttleMemory)
      .execute();
    await this.db.deleteFrom('device_cookies').where('expires_at', '<=', now).execute();
  }
}
