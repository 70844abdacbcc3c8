import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';

export class ConsentRepo {
  private readonly scopesQuery;

  constructor(private readonly db: Db) {
    this.scopesQuery = new PreparedQuery(db, (p: { userId: string; clientId: string }) =>
      db.selectFrom('consents').select('scopes').where('user_id', '=', p.userId).where('client_id', '=', p.clientId),
    );
  }

  /** Scopes the user has approved for the client; empty when never asked. */
  async scopes(userId: string, clientId: string): Promise<string[]> {
    const row = await this.scopesQuery.first({ userId, clientId });
    return row ? (JSON.parse(row.scopes) as string[]) : [];
  }

  /** Adds scopes to what the user has approved for the client. */
  async grant(userId: string, clientId: string, scopes: string[], now: number): Promise<void> {
    const merged = [...new Set([...(await this.scopes(userId, clientId)), ...scopes])];
    await this.db
      .insertInto('consents')
      .values({ user_id: userId, client_id: clientId, scopes: JSON.stringify(merged), created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes: JSON.stringify(merged), updated_at: now }))
      .execute();
  }
}
