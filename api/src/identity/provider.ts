import type { Account } from '@gatehouse/shared';

export type AuthenticationResult =
  | { ok: true; userId: string }
  /** `reason` is for the log and the audit trail only; clients see one generic failure. */
  | { ok: false; reason: 'unknown_user' | 'bad_password' | 'disabled'; userId?: string };

/** Profile facts the portal shows about the signed-in user. */
export interface UserSummary {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  isAdmin: boolean;
}

/**
 * Where identities live. The OIDC, portal and admin code only talk to this interface; the
 * embedded SQLite store implements it now, OpenBao later.
 */
export interface IdentityProvider {
  /** Checks a username-or-email and password. Takes the same time for unknown users. */
  authenticate(login: string, password: string): Promise<AuthenticationResult>;
  /** Claim source for an active user; undefined when the user is gone or disabled. */
  findAccount(userId: string): Promise<Account | undefined>;
  findUser(userId: string): Promise<UserSummary | undefined>;
}
