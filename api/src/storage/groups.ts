import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Db } from './db.js';
import type { GroupTable } from './schema.js';
import { uniqueViolation, type GroupRef } from './users.js';

/** A group with its parents (the groups it is nested in) and its number of direct members. */
export interface GroupRecord {
  id: string;
  name: string;
  description: string | null;
  requireMfa: boolean;
  parents: GroupRef[];
  memberCount: number;
  createdAt: number;
}

/** Why a change to groups was refused. */
export type GroupWriteRefusal = 'not_found' | 'group_name_taken' | 'unknown_group' | 'group_cycle';

/** Holds when a JSON list of group names (a column) contains `name`. */
const namesContain = (list: Expression<string>, name: string) =>
  sql<SqlBool>`exists (select 1 from json_each(${list}) where value = ${name})`;

const renamed = (json: string, from: string, to: string) =>
  JSON.stringify((JSON.parse(json) as string[]).map((n) => (n === from ? to : n)));

/**
 * Groups, nested through group_parents (a group's members are members of its parents too), and
 * their direct members. Clients' access policies and pending invitations name groups, so a
 * rename rewrites those lists in the same transaction.
 */
export class GroupRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<GroupRecord[]> {
    return this.records(await this.db.selectFrom('groups').selectAll().orderBy('name').execute());
  }

  async find(id: string): Promise<GroupRecord | undefined> {
    return (await this.records(await this.db.selectFrom('groups').selectAll().where('id', '=', id).execute()))[0];
  }

  async findByNames(names: string[]): Promise<GroupRecord[]> {
    if (names.length === 0) return [];
    return this.records(await this.db.selectFrom('groups').selectAll().where('name', 'in', names).orderBy('name').execute());
  }

  private async records(rows: Selectable<GroupTable>[]): Promise<GroupRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [parents, counts] = await Promise.all([
      this.db
        .selectFrom('group_parents')
        .innerJoin('groups', 'groups.id', 'group_parents.parent_id')
        .select(['group_parents.group_id', 'groups.id', 'groups.name'])
        .where('group_parents.group_id', 'in', ids)
        .orderBy('groups.name')
        .execute(),
      this.db
        .selectFrom('group_members')
        .select((eb) => ['group_id', eb.fn.countAll<number>().as('n')])
        .where('group_id', 'in', ids)
        .groupBy('group_id')
        .execute(),
    ]);
    const count = new Map(counts.map((c) => [c.group_id, Number(c.n)]));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      requireMfa: r.require_mfa === 1,
      parents: parents.filter((p) => p.group_id === r.id).map((p) => ({ id: p.id, name: p.name })),
      memberCount: count.get(r.id) ?? 0,
      createdAt: r.created_at,
    }));
  }

  async create(
    g: { id: string; name: string; description: string | null; requireMfa: boolean; parentIds: string[] },
    now: number,
  ): Promise<GroupWriteRefusal | 'ok'> {
    const parentIds = [...new Set(g.parentIds)];
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (!(await allExist(trx, parentIds))) return 'unknown_group';
        await trx
          .insertInto('groups')
          .values({ id: g.id, name: g.name, description: g.description, require_mfa: g.requireMfa ? 1 : 0, created_at: now })
          .execute();
        for (const parentId of parentIds) await trx.insertInto('group_parents').values({ group_id: g.id, parent_id: parentId }).execute();
        return 'ok';
      });
    } catch (err) {
      if (uniqueViolation(err) === 'groups.name') return 'group_name_taken';
      throw err;
    }
  }

  /**
   * Renames, re-describes or re-nests a group (`parentIds` replaces its parents). Nesting a
   * group in itself or in one of the groups nested in it is a group_cycle. A new name replaces
   * the old one in clients' allowed_groups and in pending invitations.
   */
  async update(
    id: string,
    change: { name?: string; description?: string | null; requireMfa?: boolean; parentIds?: string[] },
    now: number,
  ): Promise<GroupWriteRefusal | 'ok'> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
        if (!current) return 'not_found';
        if (change.parentIds) {
          const parentIds = [...new Set(change.parentIds)];
          if (!(await allExist(trx, parentIds))) return 'unknown_group';
          if (await wouldCycle(trx, id, parentIds)) return 'group_cycle';
          await trx.deleteFrom('group_parents').where('group_id', '=', id).execute();
          for (const parentId of parentIds) await trx.insertInto('group_parents').values({ group_id: id, parent_id: parentId }).execute();
        }
        const fields = {
          ...(change.name !== undefined && { name: change.name }),
          ...(change.description !== undefined && { description: change.description || null }),
          ...(change.requireMfa !== undefined && { require_mfa: change.requireMfa ? 1 : 0 }),
        };
        if (Object.keys(fields).length > 0) await trx.updateTable('groups').set(fields).where('id', '=', id).execute();
        if (change.name !== undefined && change.name !== current.name) await renameReferences(trx, current.name, change.name, now);
        return 'ok';
      });
    } catch (err) {
      if (uniqueViolation(err) === 'groups.name') return 'group_name_taken';
      throw err;
    }
  }

  /** Deletes a group unless a client's access policy names it; answers those clients then. */
  async delete(id: string): Promise<{ result: 'ok' | 'not_found' } | { result: 'group_in_use'; clients: string[] }> {
    return this.db.transaction().execute(async (trx) => {
      const group = await trx.selectFrom('groups').select('name').where('id', '=', id).executeTakeFirst();
      if (!group) return { result: 'not_found' as const };
      const clients = await trx
        .selectFrom('clients')
        .select('id')
        .where((eb) => namesContain(eb.ref('allowed_groups'), group.name))
        .orderBy('id')
        .execute();
      if (clients.length > 0) return { result: 'group_in_use' as const, clients: clients.map((c) => c.id) };
      await trx.deleteFrom('groups').where('id', '=', id).execute();
      return { result: 'ok' as const };
    });
  }

  /** Direct members, by username. */
  async members(groupId: string): Promise<{ id: string; username: string; name: string | null }[]> {
    return this.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .select(['users.id', 'users.username', 'users.name'])
      .where('group_members.group_id', '=', groupId)
      .orderBy('users.username')
      .execute();
  }

  /** Makes the user a direct member (again); false when the group or the user does not exist. */
  async addMember(groupId: string, userId: string): Promise<boolean> {
    try {
      await this.db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return false;
      throw err;
    }
  }

  /** Ends a direct membership; false when the group or the user does not exist. */
  async removeMember(groupId: string, userId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const group = await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst();
      const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      if (!group || !user) return false;
      await trx.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute();
      return true;
    });
  }
}

async function allExist(db: Db, ids: string[]): Promise<boolean> {
  if (ids.length === 0) return true;
  const found = await db.selectFrom('groups').select('id').where('id', 'in', ids).execute();
  return found.length === ids.length;
}

/** Whether `groupId` is one of `parentIds` or an ancestor of one of them (it would then be nested in itself). */
async function wouldCycle(db: Db, groupId: string, parentIds: string[]): Promise<boolean> {
  if (parentIds.length === 0) return false;
  if (parentIds.includes(groupId)) return true;
  const hit = await db
    .withRecursive('ancestors(id)', (q) =>
      q
        .selectFrom('group_parents')
        .select('group_parents.parent_id as id')
        .where('group_parents.group_id', 'in', parentIds)
        .union(
          q
            .selectFrom('group_parents')
            .innerJoin('ancestors', 'ancestors.id', 'group_parents.group_id')
            .select('group_parents.parent_id as id'),
        ),
    )
    .selectFrom('ancestors')
    .select('id')
    .where('id', '=', groupId)
    .executeTakeFirst();
  return hit !== undefined;
}

async function renameReferences(db: Db, from: string, to: string, now: number): Promise<void> {
  const clients = await db
    .selectFrom('clients')
    .select(['id', 'allowed_groups'])
    .where((eb) => namesContain(eb.ref('allowed_groups'), from))
    .execute();
  for (const c of clients) {
    await db
      .updateTable('clients')
      .set({ allowed_groups: renamed(c.allowed_groups, from, to), updated_at: now })
      .where('id', '=', c.id)
      .execute();
  }
  const invitations = await db
    .selectFrom('invitations')
    .select(['id', 'groups'])
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where((eb) => namesContain(eb.ref('groups'), from))
    .execute();
  for (const i of invitations) {
    await db
      .updateTable('invitations')
      .set({ groups: renamed(i.groups, from, to) })
      .where('id', '=', i.id)
      .execute();
  }
}
