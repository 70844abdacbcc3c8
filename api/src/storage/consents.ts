import type { Db } from './db.js';

export class ConsentRepo {
  constructor(private readonly db: Db) {}

  /** Scopes the user has approved for the client; empty when never asked. */
  async scopes(userId: string, clientId: string): Promise<string[]> {
    const row = await this.db
      .selectFrom('consents')
      .select('scopes')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
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
