import type { Db } from './db.js';
import type { GrantTable } from './schema.js';

/**
 * One authorization decision: a user let a client have some scopes. Its code and every token
 * issued from it hang off the grant, so revoking the grant revokes all of them.
 */
export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  sessionId: string;
  scope: string[];
  offline: boolean;
  nonce: string | null;
  authTime: number;
  amr: string[];
  createdAt: number;
  revokedAt: number | null;
}

export interface CodeRecord {
  grant: Grant;
  redirectUri: string;
  codeChallenge: string | null;
  expiresAt: number;
  consumedAt: number | null;
}

export interface RefreshTokenRecord {
  grant: Grant;
  hash: string;
  scope: string[];
  expiresAt: number;
  rotatedAt: number | null;
}

const toGrant = (r: GrantTable): Grant => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  sessionId: r.session_id,
  scope: r.scope.split(' '),
  offline: r.offline === 1,
  nonce: r.nonce,
  authTime: r.auth_time,
  amr: JSON.parse(r.amr) as string[],
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

const grantColumns = [
  'grants.id',
  'grants.client_id',
  'grants.user_id',
  'grants.session_id',
  'grants.scope',
  'grants.offline',
  'grants.nonce',
  'grants.auth_time',
  'grants.amr',
  'grants.created_at',
  'grants.revoked_at',
] as const;

export class GrantRepo {
  constructor(private readonly db: Db) {}

  /** Stores a new grant together with the code that carries it to the client. */
  async insertWithCode(
    grant: Omit<Grant, 'revokedAt'>,
    code: { hash: string; redirectUri: string; codeChallenge: string | null; expiresAt: number },
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('grants')
        .values({
          id: grant.id,
          client_id: grant.clientId,
          user_id: grant.userId,
          session_id: grant.sessionId,
          scope: grant.scope.join(' '),
          offline: grant.offline ? 1 : 0,
          nonce: grant.nonce,
          auth_time: grant.authTime,
          amr: JSON.stringify(grant.amr),
          created_at: grant.createdAt,
          revoked_at: null,
        })
        .execute();
      await trx
        .insertInto('codes')
        .values({
          hash: code.hash,
          grant_id: grant.id,
          redirect_uri: code.redirectUri,
          code_challenge: code.codeChallenge,
          expires_at: code.expiresAt,
          consumed_at: null,
        })
        .execute();
    });
  }

  async find(id: string): Promise<Grant | undefined> {
    const row = await this.db.selectFrom('grants').select(grantColumns).where('id', '=', id).executeTakeFirst();
    return row && toGrant(row);
  }

  async findCode(hash: string): Promise<CodeRecord | undefined> {
    const row = await this.db
      .selectFrom('codes')
      .innerJoin('grants', 'grants.id', 'codes.grant_id')
      .select([...grantColumns, 'codes.redirect_uri', 'codes.code_challenge', 'codes.expires_at', 'codes.consumed_at'])
      .where('codes.hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      grant: toGrant(row),
      redirectUri: row.redirect_uri,
      codeChallenge: row.code_challenge,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
    };
  }

  /** Marks the code used; false if it already was (RFC 6749 §4.1.2: single use). */
  async consumeCode(hash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('codes')
      .set({ consumed_at: now })
      .where('hash', '=', hash)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.db.updateTable('grants').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async insertRefreshToken(t: { hash: string; grantId: string; scope: string[]; expiresAt: number }, now: number): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({ hash: t.hash, grant_id: t.grantId, scope: t.scope.join(' '), created_at: now, expires_at: t.expiresAt, rotated_at: null })
      .execute();
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .innerJoin('grants', 'grants.id', 'refresh_tokens.grant_id')
      .select([
        ...grantColumns,
        'refresh_tokens.hash',
        'refresh_tokens.scope as token_scope',
        'refresh_tokens.expires_at',
        'refresh_tokens.rotated_at',
      ])
      .where('refresh_tokens.hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      grant: toGrant(row),
      hash: row.hash,
      scope: row.token_scope.split(' '),
      expiresAt: row.expires_at,
      rotatedAt: row.rotated_at,
    };
  }

  /** Records that a refresh token was exchanged; keeps the first rotation time. */
  async markRotated(hash: string, now: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ rotated_at: now }).where('hash', '=', hash).where('rotated_at', 'is', null).execute();
  }

  async purgeExpired(now: number): Promise<void> {
    await this.db.deleteFrom('codes').where('expires_at', '<=', now).where('consumed_at', 'is', null).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).execute();
  }
}
