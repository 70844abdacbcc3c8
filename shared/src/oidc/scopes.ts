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

/** Splits a space-delimited scope string (RFC 6749 §3.3), dropping duplicates and empty items. */
export function splitScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export function joinScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}
