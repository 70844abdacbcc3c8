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

  /** The user's approved applications, with when they last received tokens. */
  async listForUser(
    userId: string,
  ): Promise<{ clientId: string; name: string; scopes: string[]; grantedAt: number; lastUsedAt: number | null }[]> {
    const rows = await this.db
      .selectFrom('consents')
      .innerJoin('clients', 'clients.id', 'consents.client_id')
      .select((eb) => [
        'consents.client_id as clientId',
        'clients.name as name',
        'consents.scopes as scopes',
        'consents.created_at as grantedAt',
        eb
          .selectFrom('grants')
          .innerJoin('refresh_tokens', 'refresh_tokens.grant_id', 'grants.id')
          .select((e) => e.fn.max('refresh_tokens.created_at').as('t'))
          .whereRef('grants.client_id', '=', 'consents.client_id')
          .whereRef('grants.user_id', '=', 'consents.user_id')
          .as('lastUsedAt'),
      ])
      .where('consents.user_id', '=', userId)
      .orderBy('clients.name')
      .execute();
    return rows.map((r) => ({ ...r, scopes: JSON.parse(r.scopes) as string[], lastUsedAt: (r.lastUsedAt as number | null) ?? null }));
  }

  /** Forgets the approval and revokes every grant (and so every token) of the user for the client. */
  async revoke(userId: string, clientId: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
      const g = await trx
        .updateTable('grants')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return r.numDeletedRows > 0n || g.numUpdatedRows > 0n;
    });
  }
}
