import type { UpstreamSettings } from './registry.js';
import { UpstreamFailure, linkIssuer, type UpstreamAnswer } from './relying-party.js';

/** A person as an upstream describes them; the account is keyed by (issuer, subject) alone. */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  username: string | null;
  name: string | null;
  email: string | null;
  /** Only what the upstream asserts: a missing `email_verified` is false. */
  emailVerified: boolean;
  groups: string[];
}

/** The claim each preset names people with, unless `claims` says otherwise. */
const DEFAULT_USERNAME: Record<UpstreamSettings['type'], string> = {
  oidc: 'preferred_username',
  google: 'email',
  microsoft: 'preferred_username',
  gitlab: 'nickname',
  github: 'login',
};

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** A username claim that is an e-mail address (Google, Entra ID's UPN) gives its local part. */
const usernameFrom = (v: string | null): string | null => (v === null ? null : (v.split('@')[0] ?? null));

function groupsFrom(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 256);
}

/** The identity in a verified answer from an OpenID provider. */
function fromClaims(s: UpstreamSettings, claims: Record<string, unknown>): UpstreamIdentity {
  const subject = text(claims.sub);
  if (!subject) throw new UpstreamFailure('no_subject', 'The identity provider did not say who signed in.');
  // Entra ID: the ID token must come from the configured directory, not any tenant's.
  if (s.type === 'microsoft' && s.tenant && String(claims.tid ?? '').toLowerCase() !== s.tenant.toLowerCase()) {
    throw new UpstreamFailure('tenant_mismatch', 'This account belongs to another organisation.');
  }
  const email = text(claims[s.claims.email ?? 'email']);
  return {
    issuer: linkIssuer(s),
    subject,
    username: usernameFrom(text(claims[s.claims.username ?? DEFAULT_USERNAME[s.type]])),
    name: text(claims[s.claims.name ?? 'name']),
    email: email?.toLowerCase() ?? null,
    // Entra ID's email claim is whatever the tenant's admin typed: never verified.
    emailVerified: s.type !== 'microsoft' && email !== null && (claims.email_verified === true || claims.email_verified === 'true'),
    groups: groupsFrom(claims[s.claims.groups ?? (s.type === 'gitlab' ? 'groups_direct' : 'groups')]),
  };
}

async function githubApi(url: string, accessToken: string, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${accessToken}`, 'x-github-api-version': '2022-11-28' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch {
    throw new UpstreamFailure('unreachable', 'GitHub could not be reached. Try again in a minute, or sign in another way.');
  }
  if (!response.ok) throw new UpstreamFailure('userinfo_failed', 'GitHub did not say who signed in.');
  return response.json().catch(() => undefined);
}

/**
 * GitHub (OAuth 2.0, no ID token): the user from `GET /user`, the e-mail from `GET /user/emails`
 * — the primary address, verified only when GitHub says so.
 */
async function fromGithub(s: UpstreamSettings, accessToken: string, timeoutMs: number): Promise<UpstreamIdentity> {
  const userUrl = s.userinfo_endpoint ?? 'https://api.github.com/user';
  const user = (await githubApi(userUrl, accessToken, timeoutMs)) as Record<string, unknown> | undefined;
  const id = user?.id;
  if (typeof id !== 'number' && typeof id !== 'string') throw new UpstreamFailure('no_subject', 'GitHub did not say who signed in.');
  const emails = await githubApi(`${userUrl.replace(/\/+$/, '')}/emails`, accessToken, timeoutMs);
  const primary = Array.isArray(emails)
    ? (emails as { email?: unknown; primary?: unknown; verified?: unknown }[]).find((e) => e.primary === true)
    : undefined;
  const email = text(primary?.email);
  return {
    issuer: linkIssuer(s),
    subject: String(id),
    username: text(user?.[s.claims.username ?? 'login']),
    name: text(user?.[s.claims.name ?? 'name']),
    email: email?.toLowerCase() ?? null,
    emailVerified: email !== null && primary?.verified === true,
    groups: [],
  };
}

export function identityOf(s: UpstreamSettings, answer: UpstreamAnswer, timeoutMs: number): Promise<UpstreamIdentity> {
  return s.type === 'github' ? fromGithub(s, answer.accessToken, timeoutMs) : Promise.resolve(fromClaims(s, answer.claims));
}
