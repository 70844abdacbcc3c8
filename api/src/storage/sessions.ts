import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { SessionTable } from './schema.js';

export interface Session {
  id: string;
  userId: string;
  authTime: number;
  amr: string[];
  remember: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  endedAt: number | null;
  /** The identity backend's token (sealed), when the backend issues one. */
  backendToken: string | null;
  /** The upstream identity provider the user signed in with (federation); null otherwise. */
  idp: string | null;
}

const toSession = (r: SessionTable): Session => ({
  id: r.id,
  userId: r.user_id,
  authTime: r.auth_time,
  amr: JSON.parse(r.amr) as string[],
  remember: r.remember === 1,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
  backendToken: r.backend_token,
  idp: r.idp,
});

export interface NewSession {
  id: string;
  tokenHash: string;
  userId: string;
  authTime: number;
  amr: string[];
  remember: boolean;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
  backendToken: string | null;
  idp: string | null;
}

export class SessionRepo {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      findByTokenHash: new PreparedQuery(db, (p: { hash: string }) =>
        db.selectFrom('sessions').selectAll().where('token_hash', '=', p.hash),
      ),
      find: new PreparedQuery(db, (p: { id: string }) => db.selectFrom('sessions').selectAll().where('id', '=', p.id)),
      touch: new PreparedQuery(db, (p: { id: string; now: number }) =>
        db.updateTable('sessions').set({ last_seen_at: p.now }).where('id', '=', p.id),
      ),
    };
  }

  async insert(s: NewSession, now: number): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: s.id,
        token_hash: s.tokenHash,
        user_id: s.userId,
        auth_time: s.authTime,
        amr: JSON.stringify(s.amr),
        remember: s.remember ? 1 : 0,
        created_at: now,
        last_seen_at: now,
        expires_at: s.expiresAt,
        ended_at: null,
        ip: s.ip,
        user_agent: s.userAgent,
        backend_token: s.backendToken,
        idp: s.idp,
      })
      .execute();
  }

  async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
    const row = await this.q.findByTokenHash.first({ hash: tokenHash });
    return row && toSession(row);
  }

  async find(id: string): Promise<Session | undefined> {
    const row = await this.q.find.first({ id });
    return row && toSession(row);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.q.touch.run({ id, now });
  }

  /** Re-authentication of the same user: a new cookie value, auth_time and backend token, same sid. */
  async reauthenticate(
    id: string,
    change: { tokenHash: string; amr: string[]; remember: boolean; expiresAt: number; backendToken: string | null; idp: string | null },
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({
        token_hash: change.tokenHash,
        auth_time: now,
        amr: JSON.stringify(change.amr),
        remember: change.remember ? 1 : 0,
        last_seen_at: now,
        expires_at: change.expiresAt,
        backend_token: change.backendToken,
        idp: change.idp,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Ends the session, drops its backend token and revokes the grants bound to it (all but offline ones). */
  async end(id: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('sessions')
        .set({ ended_at: now, backend_token: null })
        .where('id', '=', id)
        .where('ended_at', 'is', null)
        .execute();
      await trx
        .updateTable('grants')
        .set({ revoked_at: now })
        .where('session_id', '=', id)
        .where('offline', '=', 0)
        .where('revoked_at', 'is', null)
        .execute();
    });
  }

  /** The user's sessions that have not ended or expired, most recently used first. */
  async listActive(userId: string, now: number, idleTtl: number): Promise<(Session & { ip: string | null; userAgent: string | null })[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', now - idleTtl)
      .orderBy('last_seen_at', 'desc')
      .execute();
    return rows.map((r) => ({ ...toSession(r), ip: r.ip, userAgent: r.user_agent }));
  }

  /** The user's sessions that have not ended, but for `keepId`. */
  async listOpenExcept(userId: string, keepId: string | null): Promise<Session[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .where('id', '!=', keepId ?? '')
      .execute();
    return rows.map(toSession);
  }
}
