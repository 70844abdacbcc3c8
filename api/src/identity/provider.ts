import type { Account, MfaStatus, TotpEnrolment } from '@gatehouse/shared';

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
  verify(userId: string, factor: SecondFactor): Promise<SecondFactorResult>;
  disableTotp(userId: string): Promise<void>;
  regenerateRecoveryCodes(userId: string): Promise<string[]>;
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
  mfa: MfaProvider;
}
