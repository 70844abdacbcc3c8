import { API_SCOPES, API_SCOPE_DESCRIPTIONS, isApiScope } from '../dto/api-scopes.js';

/** Scopes Gatehouse understands, with the claims each one releases (OIDC Core §5.4). */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'preferred_username', 'nickname', 'updated_at'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
  offline_access: [],
} as const satisfies Record<string, readonly string[]>;

export type Scope = keyof typeof SCOPE_CLAIMS;

export const SUPPORTED_SCOPES = Object.keys(SCOPE_CLAIMS) as Scope[];

export const SUPPORTED_CLAIMS = [...new Set(Object.values(SCOPE_CLAIMS).flat())];

/** What approving a scope means, in the words the consent screen shows. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  openid: 'Know who you are when you sign in',
  profile: 'See your name and username',
  email: 'See your email address',
  groups: 'See which groups you belong to',
  offline_access: 'Stay signed in to the app when you are away',
};

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPE_CLAIMS, value);
}

/** Scopes a client may be allowed and request: the OIDC ones and those of the REST API. */
export const GRANTABLE_SCOPES = [...SUPPORTED_SCOPES, ...API_SCOPES];

export function isGrantableScope(value: string): boolean {
  return isScope(value) || isApiScope(value);
}

/** What approving a scope means, for people; unknown scopes are shown by name. */
export function describeScope(scope: string): string {
  return isScope(scope) ? SCOPE_DESCRIPTIONS[scope] : isApiScope(scope) ? API_SCOPE_DESCRIPTIONS[scope] : scope;
}

/** Splits a space-delimited scope string (RFC 6749 §3.3), dropping duplicates and empty items. */
export function splitScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export function joinScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}
