import type { UserRepo } from '../../storage/users.js';
import { NotSupported, type Directory, type DirectoryGroup, type DirectoryUser } from '../provider.js';
import { isOpenBaoId, isUserpassName, type GroupData, type OpenBaoClient, type OpenBaoSettings } from './client.js';
import type { OpenBaoIdentities, OpenBaoIdentity } from './identities.js';
import { mirroredFields, type ShadowUsers } from './shadow-users.js';

/** Entity reads in flight at once while listing users. */
const CONCURRENCY = 8;

async function mapLimit<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const readOnly = (what: string) => () => Promise.reject(new NotSupported(what));

/**
 * The admin view of an OpenBao directory: userpass users and their entities, identity groups.
 * It only reads, except for passwords (userpass) and TOTP resets (through the MFA provider);
 * users, groups and memberships are managed in OpenBao itself, so those changes are NotSupported.
 *
 * Listing reads every userpass user's entity (cached a few seconds) and searches and pages in
 * Gatehouse, since OpenBao has neither. Userpass users without an entity yet (who never signed
 * in, and for whom no entity was made in advance) have no id and are left out until they have one.
 */
export function createOpenBaoDirectory(
  client: OpenBaoClient,
  settings: OpenBaoSettings,
  identities: OpenBaoIdentities,
  users: UserRepo,
  shadow: ShadowUsers,
): Directory {
  async function toUser(identity: OpenBaoIdentity): Promise<DirectoryUser> {
    await shadow.sync(identity);
    const record = await users.findRecord(identity.id);
    return {
      id: identity.id,
      ...mirroredFields(identity),
      totpEnabled: record?.totpEnabled ?? false,
      lastLoginAt: record?.lastLoginAt ?? null,
      createdAt: identity.createdAt,
      groups: identity.directGroups,
    };
  }

  async function getUser(id: string): Promise<DirectoryUser | undefined> {
    const identity = await identities.byId(id);
    return identity && toUser(identity);
  }

  async function toGroup(group: GroupData): Promise<DirectoryGroup> {
    const names = await identities.groupNames(group.parentGroupIds);
    return {
      id: group.id,
      name: group.name,
      description: group.metadata.description ?? null,
      // OpenBao decides who needs a second factor (login MFA enforcements), not groups here.
      requireMfa: false,
      parents: group.parentGroupIds.map((id) => ({ id, name: names.get(id) ?? id })),
      memberCount: group.memberEntityIds.length,
    };
  }

  async function readGroup(id: string): Promise<GroupData | undefined> {
    return isOpenBaoId(id) ? client.readGroup(id) : undefined;
  }

  return {
    async listUsers(q) {
      const usernames = await client.listUserpassUsers(settings.userpassMount);
      const found = await mapLimit(usernames, CONCURRENCY, (name) => identities.byUsername(name));
      let all = found.filter((u): u is OpenBaoIdentity => u !== undefined);
      const search = q.search?.toLowerCase();
      if (search) all = all.filter((u) => [u.username, u.name, u.email].some((v) => v?.toLowerCase().includes(search)));
      all.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : a.id < b.id ? -1 : 1));
      const page = await Promise.all(all.slice(q.offset, q.offset + q.limit).map(toUser));
      return { users: page, total: all.length };
    },

    getUser,

    async resolveUser(ref) {
      if (isOpenBaoId(ref)) return getUser(ref);
      const identity = await identities.byUsername(ref);
      return identity && toUser(identity);
    },

    async setPassword(id, password) {
      const identity = await identities.byId(id, { fresh: true });
      if (!identity?.hasUserpassAlias || !isUserpassName(identity.username)) return false;
      return client.setUserpassPassword(settings.userpassMount, identity.username, password);
    },

    /** A userpass alias is a password sign-in. */
    async hasPassword(id) {
      return (await identities.byId(id))?.hasUserpassAlias ?? false;
    },

    recordLogin: (id, at) => users.recordLogin(id, at),

    countAdmins: readOnly('Counting admins (they are the members of the admin group in OpenBao)'),
    createUser: readOnly('Creating users (add them to OpenBao userpass)'),
    updateUser: readOnly('Changing users (edit the entity in OpenBao)'),
    setDisabled: readOnly('Disabling users (disable the entity in OpenBao)'),
    deleteUser: readOnly('Deleting users (delete them in OpenBao)'),

    async listGroups() {
      const groups = await client.listGroups();
      const read = await mapLimit(groups, CONCURRENCY, (g) => readGroup(g.id));
      const found = read.filter((g): g is GroupData => g !== undefined);
      return (await Promise.all(found.map(toGroup))).sort((a, b) => a.name.localeCompare(b.name));
    },

    async getGroup(id) {
      const group = await readGroup(id);
      return group && toGroup(group);
    },

    async findGroupsByName(names) {
      const wanted = new Set(names.map((n) => n.toLowerCase()));
      const matching = (await client.listGroups()).filter((g) => wanted.has(g.name.toLowerCase()));
      const read = await mapLimit(matching, CONCURRENCY, (g) => readGroup(g.id));
      return Promise.all(read.filter((g): g is GroupData => g !== undefined).map(toGroup));
    },

    createGroup: readOnly('Creating groups (make identity groups in OpenBao)'),
    updateGroup: readOnly('Changing groups (edit identity groups in OpenBao)'),
    deleteGroup: readOnly('Deleting groups (delete identity groups in OpenBao)'),

    async listMembers(groupId) {
      const group = await readGroup(groupId);
      if (!group) return [];
      const members = await mapLimit(group.memberEntityIds, CONCURRENCY, (id) => identities.byId(id));
      return members
        .filter((m): m is OpenBaoIdentity => m !== undefined)
        .map((m) => ({ id: m.id, username: m.username, name: m.name }))
        .sort((a, b) => a.username.localeCompare(b.username));
    },

    addMember: readOnly('Changing group membership (edit the group in OpenBao)'),
    removeMember: readOnly('Changing group membership (edit the group in OpenBao)'),
  };
}
