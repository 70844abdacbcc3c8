import type { Db } from './db.js';
import type { InvitationTable } from './schema.js';

export interface InvitationRecord {
  id: string;
  email: string;
  /** Group names the invitee lands in. */
  groups: string[];
  /** Sealed TOTP secret offered to the invitee; set on the first lookup when a second factor is required. */
  sealedTotpSecret: string | null;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedBy: string | null;
  revokedAt: number | null;
}

const toInvitation = (r: InvitationTable): InvitationRecord => ({
  id: r.id,
  email: r.email,
  groups: JSON.parse(r.groups) as string[],
  sealedTotpSecret: r.totp_secret,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  usedBy: r.used_by,
  revokedAt: r.revoked_at,
});

/** Single-use invitations, found by the SHA-256 of their token. */
export class InvitationRepo {
  constructor(private readonly db: Db) {}

  async insert(i: Omit<InvitationRecord, 'sealedTotpSecret' | 'usedAt' | 'usedBy' | 'revokedAt'>, tokenHash: string): Promise<void> {
    await this.db
      .insertInto('invitations')
      .values({
        id: i.id,
        token_hash: tokenHash,
        email: i.email,
        groups: JSON.stringify(i.groups),
        totp_secret: null,
        created_by: i.createdBy,
        created_at: i.createdAt,
        expires_at: i.expiresAt,
        used_at: null,
        used_by: null,
        revoked_at: null,
      })
      .execute();
  }

  async findById(id: string): Promise<InvitationRecord | undefined> {
    const row = await this.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInvitation(row);
  }

  async findByHash(tokenHash: string): Promise<InvitationRecord | undefined> {
    const row = await this.db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toInvitation(row);
  }

  /** Newest first; with `pendingAt`, only those still usable at that time. */
  async list(pendingAt?: number): Promise<InvitationRecord[]> {
    let q = this.db.selectFrom('invitations').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (pendingAt !== undefined) {
      q = q.where('used_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', pendingAt);
    }
    return (await q.execute()).map(toInvitation);
  }

  /** Stores the TOTP secret unless one is there already; false when another request stored one first. */
  async setTotpSecretOnce(id: string, sealedSecret: string): Promise<boolean> {
    const r = await this.db
      .updateTable('invitations')
      .set({ totp_secret: sealedSecret })
      .where('id', '=', id)
      .where('totp_secret', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * Marks a usable invitation used, atomically: of concurrent claims only one succeeds, so a
   * token can never make two accounts. False when it is used, revoked or expired.
   */
  async claim(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('invitations')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Undoes a claim whose account could not be made, so the invitation stays usable. */
  async release(id: string): Promise<void> {
    await this.db.updateTable('invitations').set({ used_at: null }).where('id', '=', id).where('used_by', 'is', null).execute();
  }

  /** Records the account a claimed invitation made. */
  async setUsedBy(id: string, userId: string): Promise<void> {
    await this.db.updateTable('invitations').set({ used_by: userId }).where('id', '=', id).execute();
  }

  /** Revokes an unused, unrevoked invitation; false otherwise. */
  async revoke(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('invitations')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
