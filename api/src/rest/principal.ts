import type { Request } from 'express';
import { API_TOKEN_PREFIX, expandScopes, ownerScopes, type ApiScope } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { csrfRejected, passesCsrfCheck } from '../http/csrf.js';
import type { UserSummary } from '../identity/provider.js';
import { sha256 } from '../lib/hash.js';
import { AccessTokenRejected } from '../oidc/tokens/access-token.js';
import type { Session } from '../storage/sessions.js';
import { requireSession } from './require-session.js';

/** Who is calling the REST API, how, and with which scopes. */
export type Principal = { user: UserSummary; scopes: Set<ApiScope> } & (
  | {
      via: 'session';
      /** The browser session the call came with (the cookie). */
      session: Session;
      sessionId: string;
    }
  | { via: 'api_token' | 'access_token'; session?: undefined; sessionId?: undefined }
);

const intersect = (a: Set<ApiScope>, b: Set<ApiScope>) => new Set([...a].filter((s) => b.has(s)));

export const invalidToken = (message: string) => new ApiError('invalid_token', 401, message);

/**
 * Authenticates a REST call, in this order:
 * - `Authorization: Bearer gh_…`: a personal API token (SHA-256 lookup; live, unrevoked)
 * - `Authorization: Bearer <jwt>`: an access token Gatehouse issued, whose grant is live; its
 *   API scopes count
 * - otherwise the browser session cookie, with the CSRF check for state-changing calls
 * A token's scopes are always cut down to what its owner may do now.
 */
export async function authenticate(ctx: AppContext, req: Request): Promise<Principal> {
  const header = req.get('authorization');
  if (header === undefined) {
    if (!passesCsrfCheck(req, new URL(ctx.config.issuer).origin)) throw csrfRejected();
    const { user, session } = await requireSession(ctx, req);
    return { via: 'session', user, scopes: ownerScopes(user.isAdmin), session, sessionId: session.id };
  }
  if (!/^bearer /i.test(header)) throw invalidToken('Send a Bearer token.');
  const token = header.slice(7).trim();
  const now = ctx.clock.now();

  if (token.startsWith(API_TOKEN_PREFIX)) {
    const found = await ctx.storage.apiTokens.findByHash(sha256(token));
    const user = found && !found.revokedAt && found.expiresAt > now ? await ctx.identity.findUser(found.userId) : undefined;
    if (!found || !user) throw invalidToken('The API token is not valid, has expired or was revoked.');
    await ctx.storage.apiTokens.touch(found.id, now);
    return { via: 'api_token', user, scopes: intersect(expandScopes(found.scopes), ownerScopes(user.isAdmin)) };
  }

  const { claims, user } = await ctx.accessTokens.validate(token, { load: 'user' }).catch((err: unknown) => {
    if (!(err instanceof AccessTokenRejected)) throw err;
    const expired = err.reason === 'invalid' || err.reason === 'expired';
    throw invalidToken(expired ? 'The access token is not valid or has expired.' : 'The access token has been revoked.');
  });
  return { via: 'access_token', user, scopes: intersect(expandScopes(claims.scope), ownerScopes(user.isAdmin)) };
}
