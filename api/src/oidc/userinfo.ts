import express, { Router, type Request, type Response } from 'express';
import { buildClaims } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { sendJson } from '../http/json.js';
import { noStore } from '../http/no-store.js';
import { limitPerIp } from '../http/rate-limit.js';
import { InsufficientScope, InvalidRequest, InvalidToken, OAuthError } from './errors.js';
import { sendOAuthError } from './error-response.js';
import { AccessTokenRejected, AccessTokenVerifier } from './tokens/access-token.js';

/** RFC 6750 §2.1 header or §2.2 form body; never the query string (RFC 9700 §4.3.2). */
function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  const fromHeader = header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  const fromBody = req.method === 'POST' && typeof req.body?.access_token === 'string' ? (req.body.access_token as string) : undefined;
  if (fromHeader !== undefined && fromBody !== undefined) throw new InvalidRequest('Send the access token in one place only.');
  return fromHeader || fromBody;
}

function challenge(res: Response, realm: string, err?: OAuthError): void {
  const params = [`realm="${realm}"`];
  if (err) params.push(`error="${err.error}"`, `error_description="${err.description.replace(/"/g, "'")}"`);
  if (err instanceof InsufficientScope) params.push('scope="openid"');
  res.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
}

/** The UserInfo endpoint (OIDC Core §5.3): claims released by the token's scopes. */
export function userinfoRouter(ctx: AppContext): Router {
  const router = Router();
  const limiter = limitPerIp(ctx.config.rateLimit.api, ctx.config.rateLimit.windowSeconds, (_req, res) =>
    sendOAuthError(res, new OAuthError('temporarily_unavailable', 'Too many requests. Retry later.', 429)),
  );
  const verifier = new AccessTokenVerifier(ctx.keys, ctx.config.issuer);
  const handler = async (req: Request, res: Response) => {
    const realm = ctx.config.issuer;
    try {
      const token = bearerToken(req);
      if (!token) {
        // RFC 6750 §3.1: no error information when the request has no authentication at all;
        // the challenge alone tells the client to send a Bearer token.
        challenge(res, realm);
        res.status(401).end();
        return;
      }
      const now = ctx.clock.now();
      const claims = await verifier.verify(token, now).catch((err: unknown) => {
        throw err instanceof AccessTokenRejected ? new InvalidToken('The access token is invalid or has expired.') : err;
      });
      const grant = await ctx.storage.grants.find(claims.grantId);
      if (!grant || grant.revokedAt !== null || grant.userId !== claims.sub) throw new InvalidToken('The access token has been revoked.');
      if (!claims.scope.includes('openid')) throw new InsufficientScope('The access token lacks the openid scope.');
      const account = await ctx.identity.findAccount(claims.sub);
      if (!account) throw new InvalidToken('The user of this token no longer exists or is disabled.');
      sendJson(res, buildClaims(account, claims.scope));
    } catch (err) {
      if (err instanceof InvalidToken || err instanceof InsufficientScope) challenge(res, realm, err);
      else if (!(err instanceof OAuthError)) ctx.log.error('userinfo failed', err, req);
      sendOAuthError(res, err);
    }
  };
  router.get('/oauth2/userinfo', noStore, limiter, handler);
  router.post('/oauth2/userinfo', noStore, limiter, express.urlencoded({ extended: false, limit: '16kb' }), handler);
  return router;
}
