import type { Db } from './db.js';

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
  constructor(private readonly db: Db) {}

  async insert(e: AuditRow): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        at: e.at,
        event: e.event,
        outcome: e.outcome,
        user_id: e.userId,
        client_id: e.clientId,
        ip: e.ip,
        detail: e.detail ? JSON.stringify(e.detail) : null,
      })
      .execute();
  }

  async list(filter: { event?: string; limit?: number } = {}): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit ?? 100);
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
