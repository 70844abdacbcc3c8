import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { UserTable } from './schema.js';

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

export class UserRepo {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      findById: new PreparedQuery(db, (p: { id: string }) => db.selectFrom('users').selectAll().where('id', '=', p.id)),
      // The user and their group names (as groupsOf orders them) in one query.
      findWithGroups: new PreparedQuery(db, (p: { id: string }) =>
        db
          .selectFrom('users')
          .selectAll('users')
          .select((eb) =>
            eb
              .selectFrom('group_members')
              .innerJoin('groups', 'groups.id', 'group_members.group_id')
              .select((agg) => agg.fn.agg<string>('json_group_array', ['groups.name']).orderBy('groups.name').as('names'))
              .whereRef('group_members.user_id', '=', 'users.id')
              .as('group_names'),
          )
          .where('users.id', '=', p.id),
      ),
    };
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.q.findById.first({ id });
    return row && toUser(row);
  }

  /** The user and the names of their groups, sorted, in one round trip. */
  async findWithGroups(id: string): Promise<{ user: User; groups: string[] } | undefined> {
    const row = await this.q.findWithGroups.first({ id });
    if (!row) return undefined;
    const { group_names, ...user } = row;
    return { user: toUser(user), groups: group_names ? (JSON.parse(group_names) as string[]) : [] };
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

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insert(user: NewUser, now: number): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        username: user.username,
        email: user.email,
        email_verified: user.emailVerified ? 1 : 0,
        name: user.name,
        nickname: user.nickname,
        password_hash: user.passwordHash,
        is_admin: user.isAdmin ? 1 : 0,
        disabled: user.disabled ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .execute();
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
}
