import type { Account, MfaStatus, TotpEnrolment } from '@gatehouse/shared';

/** A token the backend issued to the user at sign-in; kept server-side with the session. */
export interface BackendCredential {
  token: string;
  /** When the backend stops honouring it; the session ends then. */
  expiresAt: number;
}

export type AuthenticationResult =
  /** Signed in by the password alone. */
  | { ok: true; userId: string; secondFactor: false; credential?: BackendCredential }
  /** The password is right and a second factor must follow; `state` finishes the login (completeLogin). */
  | { ok: true; userId: string; secondFactor: true; state?: string }
  /** `reason` is for the log and the audit trail only; clients see one generic failure. */
  | { ok: false; reason: 'unknown_user' | 'bad_password' | 'disabled'; userId?: string };

/** The identity backend cannot be reached; callers answer a temporary error, never another store. */
export class IdentityUnavailable extends Error {
  /**
   * The backend had already judged the password (or code) before the failure, e.g. an entity
   * read after a successful login. The sign-in throttle then keeps the attempt: it gives back
   * only attempts nobody checked, or a 503 would tell a guesser the password was right for free.
   */
  readonly afterVerdict: boolean;

  constructor(cause?: unknown, options: { afterVerdict?: boolean } = {}) {
    super('The identity backend cannot be reached.', { cause });
    this.name = 'IdentityUnavailable';
    this.afterVerdict = options.afterVerdict ?? false;
  }
}

/** What a backend can do; the API refuses and the SPA hides what it cannot. */
export interface IdentityCapabilities {
  /** Users and groups are created, changed and deleted here (admin screens, invitations, sign-up). */
  manageUsers: boolean;
  /** Single-use recovery codes for a lost authenticator. */
  recoveryCodes: boolean;
  /** A sign-in may name the user by email address, not only by username. */
  emailLogin: boolean;
  /** A code can be checked alone (step-up); otherwise a step-up asks for the password again. */
  checkCodeAlone: boolean;
  /** Backend tokens (wrapped) for the signed-in user. */
  backendTokens: boolean;
  /**
   * Upstream identities can be linked to accounts (federation). OpenBao keeps its own entity
   * aliases, which Gatehouse cannot make for people who never signed in to OpenBao, so it does not.
   */
  federation: boolean;
}

/** Profile facts the portal shows about the signed-in user. */
export interface UserSummary {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  isAdmin: boolean;
  /** Effective group names: direct memberships and every group they are nested in. */
  groups: string[];
  /** One of the user's effective groups requires a second factor. */
  requireMfa: boolean;
}

export type SecondFactor = { code: string } | { recoveryCode: string };

/** What checking a second factor found; only `totp` and `recovery` mean success. */
export type SecondFactorResult = 'totp' | 'recovery' | 'invalid' | 'replayed' | 'not_enrolled';

/**
 * Second factors of a user: TOTP (RFC 6238) with single-use recovery codes. Codes are checked
 * with one time step of slack either way, and a step once accepted is never accepted again.
 */
export interface MfaProvider {
  status(userId: string): Promise<MfaStatus>;
  /** A new secret to show; replaces an unconfirmed one; undefined when TOTP is already on. */
  startTotpEnrolment(userId: string, account: string): Promise<TotpEnrolment | undefined>;
  /** Turns TOTP on when the code matches the pending secret; answers the recovery codes (shown once). */
  confirmTotpEnrolment(userId: string, code: string): Promise<string[] | undefined>;
  /**
   * Turns TOTP on with a secret whose code was already checked elsewhere (an invitation's),
   * recording `acceptedStep` as used so that code cannot be replayed; answers new recovery codes.
   */
  adoptTotp(userId: string, secret: string, acceptedStep: number): Promise<string[]>;
  verify(userId: string, factor: SecondFactor): Promise<SecondFactorResult>;
  disableTotp(userId: string): Promise<void>;
  regenerateRecoveryCodes(userId: string): Promise<string[]>;
}

/** A user as the admin screens see them. */
export interface DirectoryUser {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  isAdmin: boolean;
  disabled: boolean;
  totpEnabled: boolean;
  lastLoginAt: number | null;
  createdAt: number;
  /** Direct memberships. */
  groups: { id: string; name: string }[];
}

export interface DirectoryGroup {
  id: string;
  name: string;
  description: string | null;
  requireMfa: boolean;
  parents: { id: string; name: string }[];
  memberCount: number;
}

/** The backend does not offer this (e.g. creating users in OpenBao); answered as 501 not_supported. */
export class NotSupported extends Error {
  constructor(what: string) {
    super(`${what} is not possible with this identity backend.`);
    this.name = 'NotSupported';
  }
}

/** Why a directory change was refused; the admin API maps each to a stable error. */
export class DirectoryConflict extends Error {
  constructor(
    readonly reason:
      | 'username_taken'
      | 'email_taken'
      | 'group_name_taken'
      | 'group_cycle'
      | 'unknown_group'
      | 'group_in_use'
      /** Disabling, demoting or deleting the last enabled admin. */
      | 'last_admin',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Managing users and groups (the admin API). Lookups by id answer undefined for unknown ids;
 * changes throw DirectoryConflict for the reasons listed there.
 */
export interface Directory {
  listUsers(q: { search?: string; limit: number; offset: number }): Promise<{ users: DirectoryUser[]; total: number }>;
  getUser(id: string): Promise<DirectoryUser | undefined>;
  /** By exact id, or else exact (case-insensitive) username; never a partial match. */
  resolveUser(ref: string): Promise<DirectoryUser | undefined>;
  /** Users with admin rights, disabled ones included (start-up makes a first admin when there are none). */
  countAdmins(): Promise<number>;
  createUser(u: {
    username: string;
    email: string | null;
    emailVerified?: boolean;
    name: string | null;
    /** Without one the account has no usable password until a password link is used. */
    password: string | null;
    isAdmin: boolean;
    groupIds: string[];
  }): Promise<DirectoryUser>;
  updateUser(
    id: string,
    change: { username?: string; email?: string | null; emailVerified?: boolean; name?: string | null; isAdmin?: boolean },
  ): Promise<DirectoryUser | undefined>;
  setDisabled(id: string, disabled: boolean): Promise<boolean>;
  setPassword(id: string, password: string): Promise<boolean>;
  /** Whether the user can sign in with a password (an account made without one has none until it is set). */
  hasPassword(id: string): Promise<boolean>;
  deleteUser(id: string): Promise<boolean>;
  recordLogin(id: string, at: number): Promise<void>;

  listGroups(): Promise<DirectoryGroup[]>;
  getGroup(id: string): Promise<DirectoryGroup | undefined>;
  findGroupsByName(names: string[]): Promise<DirectoryGroup[]>;
  createGroup(g: { name: string; description: string | null; requireMfa: boolean; parentIds: string[] }): Promise<DirectoryGroup>;
  /** `parentIds` replaces the parents; a change that would nest a group in itself is a group_cycle. */
  updateGroup(
    id: string,
    change: { name?: string; description?: string | null; requireMfa?: boolean; parentIds?: string[] },
  ): Promise<DirectoryGroup | undefined>;
  deleteGroup(id: string): Promise<boolean>;
  listMembers(groupId: string): Promise<{ id: string; username: string; name: string | null }[]>;
  addMember(groupId: string, userId: string): Promise<boolean>;
  removeMember(groupId: string, userId: string): Promise<boolean>;
}

/** Credentials a backend mints with the user's own backend token (OpenBao). */
export interface BackendServices {
  /**
   * A child token of the user's token, response-wrapped: only the single-use wrapping token is
   * answered. Its TTL is capped by the parent's, since a child dies with its parent.
   */
  wrappedToken(credential: BackendCredential): Promise<{ wrappingToken: string; wrapTtl: number; tokenTtl: number }>;
  /** A service-account token from the kubernetes secrets engine for the configured role. */
  kubernetesToken(credential: BackendCredential, role: string, namespace: string): Promise<{ token: string; ttl: number }>;
}

/**
 * Where identities live. The OIDC, portal and admin code only talk to this interface; the
 * embedded SQLite store implements it now, OpenBao later.
 */
export interface IdentityProvider {
  readonly kind: 'sqlite' | 'openbao';
  readonly capabilities: IdentityCapabilities;
  /** Throws when the backend cannot serve (readiness). */
  ready(): Promise<void>;
  /** Upkeep the backend needs (OpenBao: renewing the service token); run at start and hourly. */
  maintain?(): Promise<void>;
  /**
   * Checks a username-or-email and password. Takes the same time for unknown users. Throws
   * IdentityUnavailable when the backend cannot be asked, with `afterVerdict` once it has judged
   * the password.
   */
  authenticate(login: string, password: string): Promise<AuthenticationResult>;
  /**
   * The second step of a login that needed one (`state` from authenticate), or a step-up of an
   * existing session when the backend checks codes alone.
   */
  completeLogin(
    userId: string,
    factor: SecondFactor,
    state?: string,
  ): Promise<{ result: SecondFactorResult; credential?: BackendCredential }>;
  /** Gives back a backend credential that is no longer needed (sign-out, re-authentication). */
  release(credential: BackendCredential): Promise<void>;
  /** Claim source for an active user; undefined when the user is gone or disabled. */
  findAccount(userId: string): Promise<Account | undefined>;
  findUser(userId: string): Promise<UserSummary | undefined>;
  mfa: MfaProvider;
  directory: Directory;
  /** Present when `capabilities.backendTokens`. */
  backend?: BackendServices;
}
