import type { Account } from '@gatehouse/shared';
import type { UserRepo } from '../storage/users.js';
import type { Directory, IdentityProvider, MfaProvider } from './provider.js';
import { verifyPassword } from './passwords.js';

/** Identities in Gatehouse's own SQLite database. */
export function createSqliteIdentityProvider(users: UserRepo, mfa: MfaProvider, directory: Directory): IdentityProvider {
  return {
    kind: 'sqlite',
    capabilities: {
      manageUsers: true,
      recoveryCodes: true,
      emailLogin: true,
      checkCodeAlone: true,
      backendTokens: false,
      federation: true,
    },
    mfa,
    directory,

    // The database is Gatehouse's own; storage readiness covers it.
    async ready() {},

    async authenticate(login, password) {
      const user = await users.findByLogin(login);
      const ok = await verifyPassword(user?.passwordHash, password);
      if (!user) return { ok: false, reason: 'unknown_user' };
      if (!ok) return { ok: false, reason: 'bad_password', userId: user.id };
      if (user.disabled) return { ok: false, reason: 'disabled', userId: user.id };
      const { totp } = await mfa.status(user.id);
      return totp.enabled ? { ok: true, userId: user.id, secondFactor: true } : { ok: true, userId: user.id, secondFactor: false };
    },

    async completeLogin(userId, factor) {
      return { result: await mfa.verify(userId, factor) };
    },

    async release() {},

    async findAccount(userId): Promise<Account | undefined> {
      const found = await users.findWithGroups(userId);
      if (!found || found.user.disabled) return undefined;
      const { user, groups } = found;
      return {
        sub: user.id,
        username: user.username,
        name: user.name,
        nickname: user.nickname,
        email: user.email,
        emailVerified: user.emailVerified,
        groups,
        updatedAt: user.updatedAt,
      };
    },

    async findUser(userId) {
      const found = await users.findWithGroups(userId);
      if (!found || found.user.disabled) return undefined;
      const { user, groups, requireMfa } = found;
      return { id: user.id, username: user.username, name: user.name, email: user.email, isAdmin: user.isAdmin, groups, requireMfa };
    },
  };
}
