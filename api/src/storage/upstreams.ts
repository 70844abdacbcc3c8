import type { Db } from './db.js';
import type { UpstreamLinkTable, UpstreamTable } from './schema.js';

/** An upstream as stored: its registration without the secret (`settings`), and the sealed secret. */
export interface UpstreamRecord {
  id: string;
  source: 'config' | 'admin';
  settings: Record<string, unknown>;
  sealedSecret: string | null;
  createdAt: number;
  updatedAt: number;
}

/** An upstream identity linked to an account. */
export interface UpstreamLinkRecord {
  issuer: string;
  subject: string;
  upstreamId: string;
  userId: string;
  email: string | null;
  createdAt: number;
  lastLoginAt: number | null;
}

/** A sign-in under way at an upstream; `secrets` is sealed (PKCE verifier, nonce, invitation). */
export interface UpstreamState {
  stateHash: string;
  upstreamId: string;
  browserHash: string;
  purpose: 'login' | 'link';
  interactionId: string | null;
  userId: string | null;
  secrets: string;
  createdAt: number;
  expiresAt: number;
}

const toUpstream = (r: UpstreamTable): UpstreamRecord => ({
  id: r.id,
  source: r.source,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  sealedSecret: r.client_secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toLink = (r: UpstreamLinkTable): UpstreamLinkRecord => ({
  issuer: r.issuer,
  subject: r.subject,
  upstreamId: r.upstream_id,
  userId: r.user_id,
  email: r.email,
  createdAt: r.created_at,
  lastLoginAt: r.last_login_at,
});

/** Upstream identity providers, the links to their identities, and sign-ins under way at them. */
export class UpstreamRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<UpstreamRecord[]> {
    return (await this.db.selectFrom('upstreams').selectAll().orderBy('id').execute()).map(toUpstream);
  }

  async find(id: string): Promise<UpstreamRecord | undefined> {
    const r = await this.db.selectFrom('upstreams').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUpstream(r);
  }

  /** False when the id is taken. */
  async insert(u: Omit<UpstreamRecord, 'createdAt' | 'updatedAt'>, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('upstreams')
      .values({
        id: u.id,
        source: u.source,
        settings: JSON.stringify(u.settings),
        client_secret: u.sealedSecret,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Changes an admin-made upstream; config ones are changed only by the config. */
  async update(id: string, change: { settings: Record<string, unknown>; sealedSecret: string | null }, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('upstreams')
      .set({ settings: JSON.stringify(change.settings), client_secret: change.sealedSecret, updated_at: now })
      .where('id', '=', id)
      .where('source', '=', 'admin')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('upstreams').where('id', '=', id).where('source', '=', 'admin').executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The configured upstreams replace the previous configured ones (and an admin one of the same id). */
  async syncConfig(upstreams: Omit<UpstreamRecord, 'source' | 'createdAt' | 'updatedAt'>[], now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const keep = upstreams.map((u) => u.id);
      let del = trx.deleteFrom('upstreams').where('source', '=', 'config');
      if (keep.length > 0) del = del.where('id', 'not in', keep);
      await del.execute();
      for (const u of upstreams) {
        const row = { source: 'config' as const, settings: JSON.stringify(u.settings), client_secret: u.sealedSecret, updated_at: now };
        await trx
          .insertInto('upstreams')
          .values({ id: u.id, ...row, created_at: now })
          .onConflict((oc) => oc.column('id').doUpdateSet(row))
          .execute();
      }
    });
  }

  // ── links ──────────────────────────────────────────────────────────────

  async findLink(issuer: string, subject: string): Promise<UpstreamLinkRecord | undefined> {
    const r = await this.db
      .selectFrom('upstream_links')
      .selectAll()
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return r && toLink(r);
  }

  async linksOf(userId: string): Promise<UpstreamLinkRecord[]> {
    return (await this.db.selectFrom('upstream_links').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()).map(
      toLink,
    );
  }

  /** False when the identity is linked already, or the user has a link to this upstream. */
  async insertLink(l: Omit<UpstreamLinkRecord, 'lastLoginAt'>): Promise<boolean> {
    const r = await this.db
      .insertInto('upstream_links')
      .values({
        issuer: l.issuer,
        subject: l.subject,
        upstream_id: l.upstreamId,
        user_id: l.userId,
        email: l.email,
        created_at: l.createdAt,
        last_login_at: l.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async touchLink(issuer: string, subject: string, email: string | null, at: number): Promise<void> {
    await this.db
      .updateTable('upstream_links')
      .set({ last_login_at: at, email })
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .execute();
  }

  async deleteLink(userId: string, upstreamId: string): Promise<UpstreamLinkRecord | undefined> {
    const r = await this.db
      .deleteFrom('upstream_links')
      .where('user_id', '=', userId)
      .where('upstream_id', '=', upstreamId)
      .returningAll()
      .executeTakeFirst();
    return r && toLink(r);
  }

  // ── sign-ins under way ─────────────────────────────────────────────────

  async insertState(s: UpstreamState): Promise<void> {
    await this.db
      .insertInto('upstream_states')
      .values({
        state_hash: s.stateHash,
        upstream_id: s.upstreamId,
        browser_hash: s.browserHash,
        purpose: s.purpose,
        interaction_id: s.interactionId,
        user_id: s.userId,
        secrets: s.secrets,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
      })
      .execute();
  }

  /** Uses the state up: it is answered once, and only while it has not expired. */
  async takeState(stateHash: string, now: number): Promise<UpstreamState | undefined> {
    const r = await this.db.deleteFrom('upstream_states').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
    if (!r || r.expires_at <= now) return undefined;
    return {
      stateHash: r.state_hash,
      upstreamId: r.upstream_id,
      browserHash: r.browser_hash,
      purpose: r.purpose,
      interactionId: r.interaction_id,
      userId: r.user_id,
      secrets: r.secrets,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    };
  }

  async purgeExpired(now: number): Promise<void> {
    await this.db.deleteFrom('upstream_states').where('expires_at', '<=', now).execute();
  }
}
