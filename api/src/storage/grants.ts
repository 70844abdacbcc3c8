import type { Db } from './db.js';
import { PreparedQuery, runInTransaction } from './prepared.js';
import type { Compilable } from 'kysely';
import type { CodeTable, GrantTable, RefreshTokenTable } from './schema.js';

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
  /** The upstream identity provider of the sign-in (federation); null otherwise. */
  idp: string | null;
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

/** A refresh token to store: its SHA-256, never the token itself. */
export interface NewRefreshToken {
  hash: string;
  grantId: string;
  scope: string[];
  expiresAt: number;
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
  idp: r.idp,
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
  'grants.idp',
  'grants.created_at',
  'grants.revoked_at',
] as const;

const codeColumns = ['codes.redirect_uri', 'codes.code_challenge', 'codes.expires_at', 'codes.consumed_at'] as const;
const refreshColumns = [
  'refresh_tokens.hash',
  'refresh_tokens.scope as token_scope',
  'refresh_tokens.expires_at',
  'refresh_tokens.rotated_at',
] as const;

/** The grant queries of the token, authorize and userinfo endpoints, built once. */
function queries(db: Db) {
  const q = <P extends object, R>(build: (p: P) => Compilable<R>) => new PreparedQuery(db, build);
  return {
    insertGrant: q((p: GrantTable) =>
      db.insertInto('grants').values({
        id: p.id,
        client_id: p.client_id,
        user_id: p.user_id,
        session_id: p.session_id,
        scope: p.scope,
        offline: p.offline,
        nonce: p.nonce,
        auth_time: p.auth_time,
        amr: p.amr,
        idp: p.idp,
        created_at: p.created_at,
        revoked_at: p.revoked_at,
      }),
    ),
    insertCode: q((p: CodeTable) =>
      db.insertInto('codes').values({
        hash: p.hash,
        grant_id: p.grant_id,
        redirect_uri: p.redirect_uri,
        code_challenge: p.code_challenge,
        expires_at: p.expires_at,
        consumed_at: p.consumed_at,
      }),
    ),
    find: q((p: { id: string }) => db.selectFrom('grants').select(grantColumns).where('id', '=', p.id)),
    findCode: q((p: { hash: string }) =>
      db
        .selectFrom('codes')
        .innerJoin('grants', 'grants.id', 'codes.grant_id')
        .select([...grantColumns, ...codeColumns])
        .where('codes.hash', '=', p.hash),
    ),
    consumeCode: q((p: { hash: string; now: number }) =>
      db.updateTable('codes').set({ consumed_at: p.now }).where('hash', '=', p.hash).where('consumed_at', 'is', null),
    ),
    revoke: q((p: { id: string; now: number }) =>
      db.updateTable('grants').set({ revoked_at: p.now }).where('id', '=', p.id).where('revoked_at', 'is', null),
    ),
    insertRefreshToken: q((p: RefreshTokenTable) =>
      db.insertInto('refresh_tokens').values({
        hash: p.hash,
        grant_id: p.grant_id,
        scope: p.scope,
        created_at: p.created_at,
        expires_at: p.expires_at,
        rotated_at: p.rotated_at,
      }),
    ),
    findRefreshToken: q((p: { hash: string }) =>
      db
        .selectFrom('refresh_tokens')
        .innerJoin('grants', 'grants.id', 'refresh_tokens.grant_id')
        .select([...grantColumns, ...refreshColumns])
        .where('refresh_tokens.hash', '=', p.hash),
    ),
    markRotated: q((p: { hash: string; now: number }) =>
      db.updateTable('refresh_tokens').set({ rotated_at: p.now }).where('hash', '=', p.hash).where('rotated_at', 'is', null),
    ),
  };
}

export class GrantRepo {
  private readonly q: ReturnType<typeof queries>;

  constructor(private readonly db: Db) {
    this.q = queries(db);
  }

  /** Stores a new grant together with the code that carries it to the client. */
  async insertWithCode(
    grant: Omit<Grant, 'revokedAt'>,
    code: { hash: string; redirectUri: string; codeChallenge: string | null; expiresAt: number },
  ): Promise<void> {
    await runInTransaction(this.db, [
      this.q.insertGrant.step({
        id: grant.id,
        client_id: grant.clientId,
        user_id: grant.userId,
        session_id: grant.sessionId,
        scope: grant.scope.join(' '),
        offline: grant.offline ? 1 : 0,
        nonce: grant.nonce,
        auth_time: grant.authTime,
        amr: JSON.stringify(grant.amr),
        idp: grant.idp,
        created_at: grant.createdAt,
        revoked_at: null,
      }),
      this.q.insertCode.step({
        hash: code.hash,
        grant_id: grant.id,
        redirect_uri: code.redirectUri,
        code_challenge: code.codeChallenge,
        expires_at: code.expiresAt,
        consumed_at: null,
      }),
    ]);
  }

  async find(id: string): Promise<Grant | undefined> {
    const row = await this.q.find.first({ id });
    return row && toGrant(row);
  }

  async findCode(hash: string): Promise<CodeRecord | undefined> {
    const row = await this.q.findCode.first({ hash });
    if (!row) return undefined;
    return {
      grant: toGrant(row),
      redirectUri: row.redirect_uri,
      codeChallenge: row.code_challenge,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
    };
  }

  /**
   * Spends the code (RFC 6749 §4.1.2: single use) and stores the refresh token issued for it, in
   * one transaction: when storing fails the code stays unspent, so the client's retry is a first
   * use, not a reuse. False, storing nothing, when the code was spent already.
   */
  async redeemCode(hash: string, now: number, refreshToken: NewRefreshToken | undefined): Promise<boolean> {
    return runInTransaction(this.db, [
      this.q.consumeCode.step({ hash, now }, { mustChange: true }),
      ...(refreshToken ? [this.refreshTokenStep(refreshToken, now)] : []),
    ]);
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.q.revoke.run({ id, now });
  }

  private refreshTokenStep(t: NewRefreshToken, now: number) {
    return this.q.insertRefreshToken.step({
      hash: t.hash,
      grant_id: t.grantId,
      scope: t.scope.join(' '),
      created_at: now,
      expires_at: t.expiresAt,
      rotated_at: null,
    });
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.q.findRefreshToken.first({ hash });
    if (!row) return undefined;
    return {
      grant: toGrant(row),
      hash: row.hash,
      scope: row.token_scope.split(' '),
      expiresAt: row.expires_at,
      rotatedAt: row.rotated_at,
    };
  }

  /**
   * Records that a refresh token was exchanged (keeping its first rotation time) and stores its
   * successor, in one transaction: when storing fails the presented token stays unrotated.
   * `first`: the caller read the token unrotated, so it must be this call that rotates it; false
   * (nothing stored) when another exchange rotated it in between.
   */
  async rotateRefreshToken(hash: string, now: number, next: NewRefreshToken | undefined, first: boolean): Promise<boolean> {
    return runInTransaction(this.db, [
      this.q.markRotated.step({ hash, now }, { mustChange: first }),
      ...(next ? [this.refreshTokenStep(next, now)] : []),
    ]);
  }

  /** Revokes every grant of the user: all their refresh and access tokens stop working. */
  async revokeAllForUser(userId: string, now: number): Promise<void> {
    await this.db.updateTable('grants').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  async purgeExpired(now: number): Promise<void> {
    await this.db.deleteFrom('codes').where('expires_at', '<=', now).where('consumed_at', 'is', null).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).execute();
  }
}
