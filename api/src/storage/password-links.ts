import type { Db } from './db.js';
import type { PasswordLinkTable } from './schema.js';

export interface PasswordLinkRecord {
  id: string;
  userId: string;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

const toLink = (r: PasswordLinkTable): PasswordLinkRecord => ({
  id: r.id,
  userId: r.user_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

/** One-time links to set a password, found by the SHA-256 of their token. */
export class PasswordLinkRepo {
  constructor(private readonly db: Db) {}

  /** Stores a new link; the user's earlier unused links stop working. */
  async issue(link: Omit<PasswordLinkRecord, 'usedAt'>, tokenHash: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('password_links').where('user_id', '=', link.userId).where('used_at', 'is', null).execute();
      await trx
        .insertInto('password_links')
        .values({
          id: link.id,
          token_hash: tokenHash,
          user_id: link.userId,
          created_by: link.createdBy,
          created_at: link.createdAt,
          expires_at: link.expiresAt,
          used_at: null,
        })
        .execute();
    });
  }

  /** The link, when it is unused and unexpired. */
  async findUsable(tokenHash: string, now: number): Promise<PasswordLinkRecord | undefined> {
    const row = await this.db
      .selectFrom('password_links')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && toLink(row);
  }

  /** Marks the link used; false when it already was or has expired, so only one caller wins. */
  async consume(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('password_links')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
