import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { AuditEventTable } from './schema.js';

export interface AuditRow {
  at: number;
  event: string;
  outcome: string;
  userId: string | null;
  actorId: string | null;
  clientId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

/** A stored event: its row id orders the trail and is the paging cursor. */
export interface StoredAuditRow extends AuditRow {
  id: number;
}

/** Which events to list; every given filter must match. */
export interface AuditFilter {
  event?: string;
  /** Events about this user or done by them as the acting admin. */
  user?: string;
  client?: string;
  outcome?: string;
  /** Seconds since the epoch, inclusive. */
  from?: number;
  to?: number;
  /** Only events with a smaller id (the previous page's last id). */
  before?: number;
  limit?: number;
}

export class AuditRepo {
  private readonly insertQuery;

  constructor(private readonly db: Db) {
    this.insertQuery = new PreparedQuery(db, (p: Omit<AuditEventTable, 'id'>) =>
      db.insertInto('audit_events').values({
        at: p.at,
        event: p.event,
        outcome: p.outcome,
        user_id: p.user_id,
        client_id: p.client_id,
        ip: p.ip,
        detail: p.detail,
        actor_id: p.actor_id,
      }),
    );
  }

  async insert(e: AuditRow): Promise<void> {
    await this.insertQuery.run({
      at: e.at,
      event: e.event,
      outcome: e.outcome,
      user_id: e.userId,
      client_id: e.clientId,
      ip: e.ip,
      detail: e.detail ? JSON.stringify(e.detail) : null,
      actor_id: e.actorId,
    });
  }

  /** Newest first. Each equality filter has an (column, id) index, so a page is a short index walk. */
  async list(filter: AuditFilter = {}): Promise<StoredAuditRow[]> {
    let q = this.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.event !== undefined) q = q.where('event', '=', filter.event);
    if (filter.user !== undefined) {
      const user = filter.user;
      q = q.where((w) => w.or([w('user_id', '=', user), w('actor_id', '=', user)]));
    }
    if (filter.client !== undefined) q = q.where('client_id', '=', filter.client);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<=', filter.to);
    if (filter.before !== undefined) q = q.where('id', '<', filter.before);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      event: r.event,
      outcome: r.outcome,
      userId: r.user_id,
      actorId: r.actor_id,
      clientId: r.client_id,
      ip: r.ip,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }

  /** Deletes events recorded before `at` (seconds); answers how many. */
  async purgeBefore(at: number): Promise<number> {
    const result = await this.db.deleteFrom('audit_events').where('at', '<', at).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
