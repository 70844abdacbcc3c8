import type { Logger } from '../../http/logger.js';
import type { Clock } from '../../lib/clock.js';
import type { UserRepo } from '../../storage/users.js';
import { TtlCache } from './cache.js';
import type { OpenBaoIdentity } from './identities.js';

/**
 * Shadow rows: one row in Gatehouse's `users` table per OpenBao entity that signed in or was
 * looked up, with the entity id as its id.
 *
 * Why: Gatehouse's own tables (sessions, grants, consents, codes, api_tokens, login_challenges,
 * totp_credentials …) reference users(id) with foreign keys and cascades, and the portal's
 * profile reads the row. OpenBao stays the source of truth: the row is rewritten from the entity
 * whenever what OpenBao says changes, and its password hash is the empty string, which no
 * password ever verifies against, so the row can never be used to sign in (not even if the
 * backend is switched back to SQLite).
 *
 * A username or email already held by another row (a local account from before the switch, or
 * an entity that was deleted and re-created under the same name) is not taken from it: the
 * shadow row then gets `<username>~<first 8 of the id>` and no email, and the clash is logged.
 */
export class ShadowUsers {
  /** What each row was last written as, so unchanged lookups do not write. */
  private readonly written: TtlCache<string>;

  constructor(
    private readonly users: UserRepo,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.written = new TtlCache(clock, 3600, 10_000);
  }

  async sync(identity: OpenBaoIdentity): Promise<void> {
    const wanted = mirroredFields(identity);
    const fingerprint = JSON.stringify(wanted);
    if (this.written.get(identity.id) === fingerprint) return;
    const existing = await this.users.findById(identity.id);
    if (!existing) await this.insert(identity.id, wanted);
    else await this.update(identity.id, existing, wanted);
    this.written.set(identity.id, fingerprint);
  }

  private fallbackName(id: string, username: string): string {
    return `${username}~${id.slice(0, 8)}`;
  }

  private async insert(id: string, wanted: Wanted): Promise<void> {
    let { username, email } = wanted;
    for (let attempt = 0; attempt < 3; attempt++) {
      let result;
      try {
        result = await this.users.create({ id, ...wanted, username, email, nickname: null, passwordHash: '' }, [], this.clock.now());
      } catch (err) {
        // Another request made the row first (same id): bring it up to date instead.
        const raced = await this.users.findById(id);
        if (raced) return this.update(id, raced, wanted);
        throw err;
      }
      if (result === 'ok') return;
      if (result === 'email_taken' && email !== null) {
        this.log.info('openbao shadow user: email held by another account; stored without it', { entity: id });
        email = null;
      } else if (result === 'username_taken' && username === wanted.username) {
        username = this.fallbackName(id, wanted.username);
        this.log.info('openbao shadow user: username held by another account; stored under a suffixed name', { entity: id, username });
      } else {
        throw new Error(`cannot store the shadow row of OpenBao entity ${id}: ${result}`);
      }
    }
    throw new Error(`cannot store the shadow row of OpenBao entity ${id}`);
  }

  private async update(id: string, existing: Wanted, wanted: Wanted) {
    const fallback = existing.username.toLowerCase() === this.fallbackName(id, wanted.username).toLowerCase();
    let username = fallback ? existing.username : wanted.username;
    let email = wanted.email;
    const unchanged =
      existing.username === username &&
      (existing.email === wanted.email || (fallback && existing.email === null)) &&
      existing.emailVerified === wanted.emailVerified &&
      existing.name === wanted.name &&
      existing.isAdmin === wanted.isAdmin &&
      existing.disabled === wanted.disabled;
    if (unchanged) return;
    for (let attempt = 0; attempt < 4; attempt++) {
      const result = await this.users.update(
        id,
        { username, email, emailVerified: wanted.emailVerified, name: wanted.name, isAdmin: wanted.isAdmin },
        this.clock.now(),
      );
      if (result === 'ok' || result === 'not_found') break;
      if (result === 'email_taken' && email !== null) email = null;
      else if (result === 'username_taken' && username === wanted.username) username = this.fallbackName(id, wanted.username);
      else if (result === 'last_admin') {
        // The row's admin flag is informational (rights come from the admin group in OpenBao);
        // the SQLite store's own "keep one admin" rule may hold it back.
        this.log.info('openbao shadow user: admin flag kept by the last-admin rule', { entity: id });
        await this.users.update(id, { username, email, emailVerified: wanted.emailVerified, name: wanted.name }, this.clock.now());
        break;
      } else throw new Error(`cannot update the shadow row of OpenBao entity ${id}: ${result}`);
    }
    if (existing.disabled !== wanted.disabled) {
      const changed = await this.users.changeDisabled(id, wanted.disabled, this.clock.now());
      if (changed === 'last_admin') this.log.info('openbao shadow user: disabled flag kept by the last-admin rule', { entity: id });
    }
  }
}

/** What the shadow row mirrors of the entity. */
type Wanted = Pick<OpenBaoIdentity, 'username' | 'email' | 'emailVerified' | 'name' | 'isAdmin' | 'disabled'>;

/** The fields of an entity a shadow row mirrors. */
export function mirroredFields(identity: OpenBaoIdentity): Wanted {
  const { username, email, emailVerified, name, isAdmin, disabled } = identity;
  return { username, email, emailVerified, name, isAdmin, disabled };
}
