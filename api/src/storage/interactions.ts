import type { AuthorizeParams, InteractionPrompt } from '@gatehouse/shared';
import type { Db } from './db.js';
import type { InteractionTable } from './schema.js';

/** A pending authorization request waiting for the user (login, consent). */
export interface Interaction {
  id: string;
  browserHash: string;
  clientId: string;
  params: AuthorizeParams;
  prompt: InteractionPrompt;
  forceLogin: boolean;
  /** The session signed in during this interaction. */
  sessionId: string | null;
  consent: 'approved' | 'denied' | null;
  createdAt: number;
  expiresAt: number;
}

const toInteraction = (r: InteractionTable): Interaction => ({
  id: r.id,
  browserHash: r.browser_hash,
  clientId: r.client_id,
  params: JSON.parse(r.params) as AuthorizeParams,
  prompt: r.prompt as Interaction['prompt'],
  forceLogin: r.force_login === 1,
  sessionId: r.session_id,
  consent: r.consent as Interaction['consent'],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export class InteractionRepo {
  constructor(private readonly db: Db) {}

  async insert(i: Interaction): Promise<void> {
    await this.db
      .insertInto('interactions')
      .values({
        id: i.id,
        browser_hash: i.browserHash,
        client_id: i.clientId,
        params: JSON.stringify(i.params),
        prompt: i.prompt,
        force_login: i.forceLogin ? 1 : 0,
        session_id: i.sessionId,
        consent: i.consent,
        created_at: i.createdAt,
        expires_at: i.expiresAt,
      })
      .execute();
  }

  async find(id: string): Promise<Interaction | undefined> {
    const row = await this.db.selectFrom('interactions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInteraction(row);
  }

  async update(id: string, change: Partial<Pick<Interaction, 'prompt' | 'sessionId' | 'consent' | 'forceLogin'>>): Promise<void> {
    await this.db
      .updateTable('interactions')
      .set({
        ...(change.prompt !== undefined && { prompt: change.prompt }),
        ...(change.sessionId !== undefined && { session_id: change.sessionId }),
        ...(change.consent !== undefined && { consent: change.consent }),
        ...(change.forceLogin !== undefined && { force_login: change.forceLogin ? 1 : 0 }),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Removes it; false when it was already gone (finished by a concurrent request). */
  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('interactions').where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async purgeExpired(now: number): Promise<void> {
    await this.db.deleteFrom('interactions').where('expires_at', '<=', now).execute();
  }
}
