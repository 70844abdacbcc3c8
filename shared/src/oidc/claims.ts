import { z } from 'zod';
import { SCOPE_CLAIMS, isScope } from './scopes.js';

/** The account facts claims are built from; every identity backend produces this shape. */
export const Account = z.object({
  sub: z.string().min(1),
  username: z.string().min(1),
  name: z.string().nullable(),
  nickname: z.string().nullable(),
  email: z.string().nullable(),
  emailVerified: z.boolean(),
  groups: z.array(z.string()),
  /** Seconds since the epoch of the last profile change. */
  updatedAt: z.number().int(),
});
export type Account = z.infer<typeof Account>;

export const UserinfoClaims = z
  .object({
    sub: z.string(),
    name: z.string().optional(),
    preferred_username: z.string().optional(),
    nickname: z.string().optional(),
    updated_at: z.number().int().optional(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
    groups: z.array(z.string()).optional(),
  })
  .strict();
export type UserinfoClaims = z.infer<typeof UserinfoClaims>;

const claimValue: Record<string, (a: Account) => unknown> = {
  sub: (a) => a.sub,
  name: (a) => a.name,
  preferred_username: (a) => a.username,
  nickname: (a) => a.nickname,
  updated_at: (a) => a.updatedAt,
  email: (a) => a.email,
  email_verified: (a) => (a.email ? a.emailVerified : null),
  groups: (a) => a.groups,
};

/**
 * Builds the claims the granted scopes release for an account (OIDC Core §5.4).
 * Claims with no value are omitted rather than sent as null (OIDC Core §5.3.2).
 */
export function buildClaims(account: Account, scopes: Iterable<string>): UserinfoClaims {
  const claims: Record<string, unknown> = { sub: account.sub };
  for (const scope of scopes) {
    if (!isScope(scope)) continue;
    for (const claim of SCOPE_CLAIMS[scope]) {
      const value = claimValue[claim]?.(account);
      if (value !== null && value !== undefined) claims[claim] = value;
    }
  }
  return claims as UserinfoClaims;
}
