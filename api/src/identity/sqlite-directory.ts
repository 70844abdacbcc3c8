import type { Clock } from '../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { GroupRecord, GroupRepo, GroupWriteRefusal } from '../storage/groups.js';
import type { UserRecord, UserRepo, UserWriteRefusal } from '../storage/users.js';
import { hashPassword } from './passwords.js';
import { DirectoryConflict, type Directory, type DirectoryGroup, type DirectoryUser } from './provider.js';

const toUser = (u: UserRecord): DirectoryUser => ({
  id: u.id,
  username: u.username,
  email: u.email,
  emailVerified: u.emailVerified,
  name: u.name,
  isAdmin: u.isAdmin,
  disabled: u.disabled,
  totpEnabled: u.totpEnabled,
  lastLoginAt: u.lastLoginAt,
  createdAt: u.createdAt,
  groups: u.groups,
});

const toGroup = (g: GroupRecord): DirectoryGroup => ({
  id: g.id,
  name: g.name,
  description: g.description,
  requireMfa: g.requireMfa,
  parents: g.parents,
  memberCount: g.memberCount,
});

const MESSAGES: Record<Exclude<UserWriteRefusal | GroupWriteRefusal, 'not_found'>, string> = {
  username_taken: 'That username is taken.',
  email_taken: 'That email address belongs to another account.',
  group_name_taken: 'A group with that name exists.',
  unknown_group: 'One of the groups does not exist.',
  group_cycle: 'A group cannot be nested in itself or in a group nested in it.',
  last_admin: 'This is the last enabled admin; make someone else an admin first.',
};

/** Throws the conflict for a refusal; answers whether the subject was there at all. */
function outcome(result: UserWriteRefusal | GroupWriteRefusal | 'ok'): boolean {
  if (result === 'ok') return true;
  if (result === 'not_found') return false;
  throw new DirectoryConflict(result, MESSAGES[result]);
}

/** Users and groups in Gatehouse's own SQLite database. */
export function createSqliteDirectory(users: UserRepo, groups: GroupRepo, clock: Clock, random: Random): Directory {
  const getUser = async (id: string) => {
    const u = await users.findRecord(id);
    return u && toUser(u);
  };
  const getGroup = async (id: string) => {
    const g = await groups.find(id);
    return g && toGroup(g);
  };

  return {
    async listUsers(q) {
      const found = await users.search(q);
      return { users: found.users.map(toUser), total: found.total };
    },

    getUser,

    async resolveUser(ref) {
      const u = (await users.findRecord(ref)) ?? (await users.findRecordByUsername(ref));
      return u && toUser(u);
    },

    countAdmins: () => users.countAdmins(),

    async createUser(u) {
      const id = random.token(16);
      const result = await users.create(
        {
          id,
          username: u.username,
          email: u.email,
          emailVerified: u.emailVerified ?? false,
          name: u.name,
          nickname: null,
          // No hash verifies against the empty string: no password until one is set.
          passwordHash: u.password === null ? '' : await hashPassword(u.password),
          isAdmin: u.isAdmin,
          disabled: false,
        },
        u.groupIds,
        clock.now(),
      );
      outcome(result);
      return (await getUser(id))!;
    },

    async updateUser(id, change) {
      return outcome(await users.update(id, change, clock.now())) ? getUser(id) : undefined;
    },

    async setDisabled(id, disabled) {
      return outcome(await users.changeDisabled(id, disabled, clock.now()));
    },

    async setPassword(id, password) {
      return users.setPasswordHash(id, await hashPassword(password), clock.now());
    },

    async hasPassword(id) {
      const user = await users.findById(id);
      return user !== undefined && user.passwordHash !== '';
    },

    async deleteUser(id) {
      return outcome(await users.delete(id));
    },

    recordLogin: (id, at) => users.recordLogin(id, at),

    async listGroups() {
      return (await groups.list()).map(toGroup);
    },

    getGroup,

    async findGroupsByName(names) {
      return (await groups.findByNames(names)).map(toGroup);
    },

    async createGroup(g) {
      const id = random.token(12);
      outcome(await groups.create({ id, ...g }, clock.now()));
      return (await getGroup(id))!;
    },

    async updateGroup(id, change) {
      return outcome(await groups.update(id, change, clock.now())) ? getGroup(id) : undefined;
    },

    async deleteGroup(id) {
      const deleted = await groups.delete(id);
      if (deleted.result === 'group_in_use') {
        throw new DirectoryConflict(
          'group_in_use',
          `The access policy of ${deleted.clients.join(', ')} names this group; take it out there first.`,
        );
      }
      return deleted.result === 'ok';
    },

    listMembers: (groupId) => groups.members(groupId),
    addMember: (groupId, userId) => groups.addMember(groupId, userId),
    removeMember: (groupId, userId) => groups.removeMember(groupId, userId),
  };
}
