import { sql, type ExpressionBuilder } from 'kysely';
import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { Database, UserTable } from './schema.js';

export interface User {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  nickname: string | null;
  passwordHash: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Omit<User, 'createdAt' | 'updatedAt'>;

export interface GroupRef {
  id: string;
  name: string;
}

/** A user as the admin screens see them: with last sign-in, second factor and direct groups. */
export interface UserRecord extends User {
  lastLoginAt: number | null;
  totpEnabled: boolean;
  groups: GroupRef[];
}

/** Why an admin change to users was refused. */
export type UserWriteRefusal = 'not_found' | 'username_taken' | 'email_taken' | 'unknown_group' | 'last_admin';

/** The `table.column` a UNIQUE constraint failure names, e.g. `users.username`. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string };
  if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return undefined;
  return /constraint failed: ([\w.]+)/.exec(e.message ?? '')?.[1] ?? '';
}

const userConflict = (err: unknown): 'username_taken' | 'email_taken' | undefined => {
  const column = uniqueViolation(err);
  return column === 'users.username' ? 'username_taken' : column === 'users.email' ? 'email_taken' : undefined;
};

/**
 * Holds when the row of `users` is not the last enabled admin: changes that would leave no
 * enabled admin (disable, demote, delete) add this to their WHERE, so two admins acting on each
 * other at once cannot both succeed.
 */
const keepsAnAdmin = (eb: ExpressionBuilder<Database, 'users'>) =>
  eb.or([
    eb('users.is_admin', '=', 0),
    eb('users.disabled', '=', 1),
    eb.exists(
      eb
        .selectFrom('users as other')
        .select('other.id')
        .where('other.is_admin', '=', 1)
        .where('other.disabled', '=', 0)
        .whereRef('other.id', '!=', 'users.id'),
    ),
  ]);

/** Makes `%`, `_` and the backslash match themselves in a LIKE whose escape character is the backslash. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);

const toUser = (r: UserTable): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  emailVerified: r.email_verified === 1,
  name: r.name,
  nickname: r.nickname,
  passwordHash: r.password_hash,
  isAdmin: r.is_admin === 1,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRow = (user: NewUser, now: number): UserTable => ({
  id: user.id,
  username: user.username,
  email: user.email,
  email_verified: user.emailVerified ? 1 : 0,
  name: user.name,
  nickname: user.nickname,
  password_hash: user.passwordHash,
  is_admin: user.isAdmin ? 1 : 0,
  disabled: user.disabled ? 1 : 0,
  last_login_at: null,
  created_at: now,
  updated_at: now,
});

export class UserRepo {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      findById: new PreparedQuery(db, (p: { id: string }) => db.selectFrom('users').selectAll().where('id', '=', p.id)),
      // The user, their effective group names (direct memberships and every group those are
      // nested in, each once, sorted) and whether one of those groups requires a second factor,
      // in one query: this runs for every token, userinfo and REST call.
      findWithGroups: new PreparedQuery(db, (p: { id: string }) =>
        db
          .withRecursive('effective(id)', (q) =>
            q
              .selectFrom('group_members')
              .select('group_members.group_id as id')
              .where('group_members.user_id', '=', p.id)
              .union(
                q
                  .selectFrom('group_parents')
                  .innerJoin('effective', 'effective.id', 'group_parents.group_id')
                  .select('group_parents.parent_id as id'),
              ),
          )
          .selectFrom('users')
          .selectAll('users')
          .select((eb) => [
            eb
              .selectFrom('groups')
              .select((agg) => agg.fn.agg<string>('json_group_array', ['groups.name']).orderBy('groups.name').as('names'))
              .where('groups.id', 'in', eb.selectFrom('effective').select('effective.id'))
              .as('group_names'),
            eb
              .exists(
                eb
                  .selectFrom('groups')
                  .select('groups.id')
                  .where('groups.require_mfa', '=', 1)
                  .where('groups.id', 'in', eb.selectFrom('effective').select('effective.id')),
              )
              .as('group_requires_mfa'),
          ])
          .where('users.id', '=', p.id),
      ),
    };
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.q.findById.first({ id });
    return row && toUser(row);
  }

  /**
   * The user, the names of their effective groups (direct and inherited through nesting, each
   * once, sorted) and whether one of those requires a second factor, in one round trip.
   */
  async findWithGroups(id: string): Promise<{ user: User; groups: string[]; requireMfa: boolean } | undefined> {
    const row = await this.q.findWithGroups.first({ id });
    if (!row) return undefined;
    const { group_names, group_requires_mfa, ...user } = row;
    return {
      user: toUser(user),
      groups: group_names ? (JSON.parse(group_names) as string[]) : [],
      requireMfa: Number(group_requires_mfa) === 1,
    };
  }

  /** By username or email, both case-insensitive. */
  async findByLogin(login: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.or([eb('username', '=', login), eb('email', '=', login)]))
      .executeTakeFirst();
    return row && toUser(row);
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .where('is_admin', '=', 1)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insert(user: NewUser, now: number): Promise<void> {
    await this.db.insertInto('users').values(toRow(user, now)).execute();
  }

  async setPasswordHash(id: string, passwordHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async setDisabled(id: string, disabled: boolean, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Changes profile fields; a new email is unverified. False when the email belongs to someone else. */
  async updateProfile(
    id: string,
    change: { name?: string | null; nickname?: string | null; email?: string | null },
    now: number,
  ): Promise<boolean> {
    const current = await this.findById(id);
    if (!current) return false;
    const emailChanged = change.email !== undefined && (change.email ?? '').toLowerCase() !== (current.email ?? '').toLowerCase();
    try {
      await this.db
        .updateTable('users')
        .set({
          ...(change.name !== undefined && { name: change.name || null }),
          ...(change.nickname !== undefined && { nickname: change.nickname || null }),
          ...(emailChanged && { email: change.email || null, email_verified: 0 }),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  async groupsOf(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('groups.name')
      .where('group_members.user_id', '=', userId)
      .orderBy('groups.name')
      .execute();
    return rows.map((r) => r.name);
  }

  /** Adds the user to the named groups, creating groups that do not exist yet. */
  async addToGroups(userId: string, names: string[], newId: () => string): Promise<void> {
    if (names.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const name of names) {
        await trx
          .insertInto('groups')
          .values({ id: newId(), name })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        const group = await trx.selectFrom('groups').select('id').where('name', '=', name).executeTakeFirstOrThrow();
        await trx
          .insertInto('group_members')
          .values({ group_id: group.id, user_id: userId })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
  }

  // ── Administration ──────────────────────────────────────────────────────

  /** Users whose username, name or email contains `search` (case-insensitive), by username. */
  async search(q: { search?: string; limit: number; offset: number }): Promise<{ users: UserRecord[]; total: number }> {
    const pattern = q.search ? `%${likeEscape(q.search)}%` : undefined;
    let base = this.db.selectFrom('users');
    if (pattern) {
      base = base.where(({ eb, or }) =>
        or(
          (['users.username', 'users.name', 'users.email'] as const).map(
            (column) => sql<boolean>`${eb.ref(column)} like ${pattern} escape '\\'`,
          ),
        ),
      );
    }
    const [rows, count] = await Promise.all([
      base.selectAll('users').orderBy('users.username').orderBy('users.id').limit(q.limit).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { users: await this.records(rows), total: Number(count.n) };
  }

  async findRecord(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && (await this.records([row]))[0];
  }

  /** By exact username, case-insensitive (the column's collation); never a partial match. */
  async findRecordByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && (await this.records([row]))[0];
  }

  private async records(rows: UserTable[]): Promise<UserRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [memberships, totp] = await Promise.all([
      this.db
        .selectFrom('group_members')
        .innerJoin('groups', 'groups.id', 'group_members.group_id')
        .select(['group_members.user_id', 'groups.id', 'groups.name'])
        .where('group_members.user_id', 'in', ids)
        .orderBy('groups.name')
        .execute(),
      this.db.selectFrom('totp_credentials').select('user_id').where('user_id', 'in', ids).where('confirmed_at', 'is not', null).execute(),
    ]);
    const withTotp = new Set(totp.map((t) => t.user_id));
    return rows.map((r) => ({
      ...toUser(r),
      lastLoginAt: r.last_login_at,
      totpEnabled: withTotp.has(r.id),
      groups: memberships.filter((m) => m.user_id === r.id).map((m) => ({ id: m.id, name: m.name })),
    }));
  }

  /** A new user with direct memberships of the given groups (ids), all or nothing. */
  async create(user: NewUser, groupIds: string[], now: number): Promise<UserWriteRefusal | 'ok'> {
    const wanted = [...new Set(groupIds)];
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (wanted.length > 0) {
          const found = await trx.selectFrom('groups').select('id').where('id', 'in', wanted).execute();
          if (found.length !== wanted.length) return 'unknown_group';
        }
        await trx.insertInto('users').values(toRow(user, now)).execute();
        for (const groupId of wanted) await trx.insertInto('group_members').values({ group_id: groupId, user_id: user.id }).execute();
        return 'ok';
      });
    } catch (err) {
      const conflict = userConflict(err);
      if (conflict) return conflict;
      throw err;
    }
  }

  /**
   * Changes account fields. A changed email is unverified unless `emailVerified` says
   * otherwise. Taking admin rights from the last enabled admin is refused.
   */
  async update(
    id: string,
    change: { username?: string; email?: string | null; emailVerified?: boolean; name?: string | null; isAdmin?: boolean },
    now: number,
  ): Promise<UserWriteRefusal | 'ok'> {
    const current = await this.findById(id);
    if (!current) return 'not_found';
    const emailChanged = change.email !== undefined && (change.email ?? '').toLowerCase() !== (current.email ?? '').toLowerCase();
    const verified = change.emailVerified ?? (emailChanged ? false : undefined);
    let update = this.db
      .updateTable('users')
      .set({
        ...(change.username !== undefined && { username: change.username }),
        ...(change.email !== undefined && { email: change.email || null }),
        ...(verified !== undefined && { email_verified: verified ? 1 : 0 }),
        ...(change.name !== undefined && { name: change.name || null }),
        ...(change.isAdmin !== undefined && { is_admin: change.isAdmin ? 1 : 0 }),
        updated_at: now,
      })
      .where('users.id', '=', id);
    if (change.isAdmin === false) update = update.where(keepsAnAdmin);
    try {
      const r = await update.executeTakeFirst();
      if (r.numUpdatedRows > 0n) return 'ok';
    } catch (err) {
      const conflict = userConflict(err);
      if (conflict) return conflict;
      throw err;
    }
    return (await this.findById(id)) ? 'last_admin' : 'not_found';
  }

  /** Disables or enables; disabling the last enabled admin is refused. */
  async changeDisabled(id: string, disabled: boolean, now: number): Promise<'ok' | 'not_found' | 'last_admin'> {
    let update = this.db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0, updated_at: now })
      .where('users.id', '=', id);
    if (disabled) update = update.where(keepsAnAdmin);
    if ((await update.executeTakeFirst()).numUpdatedRows > 0n) return 'ok';
    return (await this.findById(id)) ? 'last_admin' : 'not_found';
  }

  /** Deletes the user and everything of theirs; deleting the last enabled admin is refused. */
  async delete(id: string): Promise<'ok' | 'not_found' | 'last_admin'> {
    const r = await this.db.deleteFrom('users').where('users.id', '=', id).where(keepsAnAdmin).executeTakeFirst();
    if (r.numDeletedRows > 0n) return 'ok';
    return (await this.findById(id)) ? 'last_admin' : 'not_found';
  }

  /** Last sign-in; not a change of the account, so updated_at stays. */
  async recordLogin(id: string, at: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: at }).where('id', '=', id).execute();
  }
}
