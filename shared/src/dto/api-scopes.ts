import { z } from 'zod';

/** Scopes of the REST identity API, held by personal API tokens and Gatehouse access tokens. */
export const API_SCOPES = ['profile:read', 'profile:write', 'tokens', 'admin:read', 'admin:write', 'audit:read'] as const;
export const ApiScope = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof ApiScope>;

/** A scope grants the scopes it implies too: writing implies reading. */
const IMPLIES: Record<ApiScope, ApiScope[]> = {
  'profile:read': [],
  'profile:write': ['profile:read'],
  tokens: [],
  'admin:read': [],
  'admin:write': ['admin:read'],
  'audit:read': [],
};

/** Roles are named bundles of scopes. */
export const ROLES = {
  viewer: ['profile:read'],
  operator: ['profile:write', 'tokens'],
  auditor: ['profile:read', 'audit:read'],
  admin: ['profile:write', 'tokens', 'admin:write', 'audit:read'],
} as const satisfies Record<string, readonly ApiScope[]>;
export type Role = keyof typeof ROLES;

export const API_SCOPE_DESCRIPTIONS: Record<ApiScope, string> = {
  'profile:read': 'Read your profile, sessions and connected apps',
  'profile:write': 'Change your profile, sessions and connected apps',
  tokens: 'Create and revoke your API tokens',
  'admin:read': 'Read users, groups and applications',
  'admin:write': 'Manage users, groups and applications',
  'audit:read': 'Read the audit log',
};

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}

/** Every scope the given ones grant, implied ones included; unknown names are ignored. */
export function expandScopes(scopes: Iterable<string>): Set<ApiScope> {
  const out = new Set<ApiScope>();
  const add = (s: ApiScope) => {
    if (out.has(s)) return;
    out.add(s);
    IMPLIES[s].forEach(add);
  };
  for (const s of scopes) if (isApiScope(s)) add(s);
  return out;
}

/** What a user may do through the API at all; no token of theirs can hold more. */
export function ownerScopes(isAdmin: boolean): Set<ApiScope> {
  return expandScopes(isAdmin ? ROLES.admin : ROLES.operator);
}

/**
 * The scopes of `scopes` a user may be granted: an API scope only when the user holds it (an
 * `admin:*` scope only for an admin); every other scope is the user's own.
 */
export function heldScopes(scopes: readonly string[], isAdmin: boolean): string[] {
  const owned = ownerScopes(isAdmin);
  return scopes.filter((s) => !isApiScope(s) || owned.has(s));
}
