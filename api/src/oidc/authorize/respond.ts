import type { AppContext } from '../../context.js';
import { sha256 } from '../../lib/hash.js';
import type { Session } from '../../storage/sessions.js';
import type { OAuthError } from '../errors.js';
import type { AuthorizeRequest, TrustedTarget } from './request.js';

/**
 * Appends the response to the registered redirect URI. RFC 6749 §3.1.2: its own query is
 * retained as registered, byte for byte, so the string is extended rather than re-serialized.
 */
function redirectWith(target: TrustedTarget, issuer: string, params: Record<string, string>): string {
  const query = new URLSearchParams(params);
  if (target.state !== undefined) query.set('state', target.state);
  // RFC 9207: the issuer identifies who answered, against mix-up attacks.
  query.set('iss', issuer);
  const uri = target.redirectUri;
  const separator = !uri.includes('?') ? '?' : uri.endsWith('?') || uri.endsWith('&') ? '' : '&';
  return `${uri}${separator}${query}`;
}

/** RFC 6749 §4.1.2.1 error response, with state and iss. */
export function errorRedirect(ctx: AppContext, target: TrustedTarget, err: OAuthError): string {
  ctx.metrics.authorize.inc({ result: 'failure', error: err.error });
  return redirectWith(target, ctx.config.issuer, { error: err.error, error_description: err.description });
}

/**
 * Issues an authorization code (RFC 6749 §4.1.2) for the granted `scopes`: 256 random bits,
 * stored only as a hash, bound to its grant, redirect_uri and PKCE challenge, and short-lived.
 */
export async function issueCode(ctx: AppContext, request: AuthorizeRequest, session: Session, scopes: string[]): Promise<string> {
  const now = ctx.clock.now();
  const code = ctx.random.token(32);
  await ctx.storage.grants.insertWithCode(
    {
      id: ctx.random.token(16),
      clientId: request.client.id,
      userId: session.userId,
      sessionId: session.id,
      scope: scopes,
      offline: scopes.includes('offline_access'),
      nonce: request.params.nonce ?? null,
      authTime: session.authTime,
      amr: session.amr,
      idp: session.idp,
      createdAt: now,
    },
    {
      hash: sha256(code),
      redirectUri: request.redirectUri,
      codeChallenge: request.params.code_challenge ?? null,
      expiresAt: now + ctx.config.ttl.code,
    },
  );
  ctx.metrics.authorize.inc({ result: 'success' });
  return redirectWith(request, ctx.config.issuer, { code });
}
