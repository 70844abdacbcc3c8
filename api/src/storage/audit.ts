import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { AuditEventTable } from './schema.js';

export interface AuditRow {
  at: number;
  event: string;
  outcome: string;
  userId: string | null;
  clientId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
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
    });
  }

  async list(filter: { event?: string; limit?: number } = {}): Promise<AuditRow[]> {
    let q = this.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.event) q = q.where('event', '=', filter.event);
    const rows = await q.execute();
    return rows.map((r) => ({
      at: r.at,
      event: r.event,
      outcome: r.outcome,
      userId: r.user_id,
      clientId: r.client_id,
      ip: r.ip,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }
}
