import type { AppContext } from '../../context.js';
import { sha256 } from '../../lib/hash.js';
import type { Session } from '../../storage/sessions.js';
import type { OAuthError } from '../errors.js';
import type { AuthorizeRequest, TrustedTarget } from './request.js';

function redirectWith(target: TrustedTarget, issuer: string, params: Record<string, string>): string {
  const url = new URL(target.redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (target.state !== undefined) url.searchParams.set('state', target.state);
  // RFC 9207: the issuer identifies who answered, against mix-up attacks.
  url.searchParams.set('iss', issuer);
  return url.toString();
}

/** RFC 6749 §4.1.2.1 error response, with state and iss. */
export function errorRedirect(ctx: AppContext, target: TrustedTarget, err: OAuthError): string {
  return redirectWith(target, ctx.config.issuer, { error: err.error, error_description: err.description });
}

/**
 * Issues an authorization code (RFC 6749 §4.1.2): 256 random bits, stored only as a hash,
 * bound to its grant, redirect_uri and PKCE challenge, and short-lived.
 */
export async function issueCode(ctx: AppContext, request: AuthorizeRequest, session: Session): Promise<string> {
  const now = ctx.clock.now();
  const code = ctx.random.token(32);
  await ctx.storage.grants.insertWithCode(
    {
      id: ctx.random.token(16),
      clientId: request.client.id,
      userId: session.userId,
      sessionId: session.id,
      scope: request.scopes,
      offline: request.scopes.includes('offline_access'),
      nonce: request.params.nonce ?? null,
      authTime: session.authTime,
      amr: session.amr,
      createdAt: now,
    },
    {
      hash: sha256(code),
      redirectUri: request.redirectUri,
      codeChallenge: request.params.code_challenge ?? null,
      expiresAt: now + ctx.config.ttl.code,
    },
  );
  return redirectWith(request, ctx.config.issuer, { code });
}
