import express, { Router } from 'express';
import { API_TOKEN_PREFIX } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { noStore } from '../http/no-store.js';
import { limitPerIp } from '../http/rate-limit.js';
import { singleValued } from '../http/validate.js';
import { sha256 } from '../lib/hash.js';
import type { Client } from '../storage/clients.js';
import { InvalidRequest, OAuthError } from './errors.js';
import { oauthErrorHandler, sendOAuthError } from './error-response.js';
import { InvalidClientBasic, authenticateClient } from './token/client-auth.js';

/** The grant behind a refresh or access token, if it was issued to this client. */
async function grantOf(ctx: AppContext, client: Client, token: string): Promise<string | undefined> {
  const refresh = await ctx.storage.grants.findRefreshToken(sha256(token));
  if (refresh) return refresh.grant.clientId === client.id ? refresh.grant.id : undefined;
  if (token.startsWith(API_TOKEN_PREFIX)) return undefined;
  const claims = await ctx.accessTokens.identify(token);
  return claims && claims.clientId === client.id ? claims.grantId : undefined;
}

/**
 * Token revocation (RFC 7009). The client authenticates as at the token endpoint; revoking a
 * refresh or access token revokes its whole grant, so the tokens issued with it stop too
 * (§2.1). Unknown, expired or foreign tokens get the same 200 as revoked ones (§2.2), so the
 * endpoint tells nobody which tokens exist.
 */
export function revocationRouter(ctx: AppContext): Router {
  const router = Router();
  const limiter = limitPerIp(ctx.config.rateLimit.token, ctx.config.rateLimit.windowSeconds, (_req, res) =>
    sendOAuthError(res, new OAuthError('temporarily_unavailable', 'Too many requests. Retry later.', 429)),
  );
  router.post('/oauth2/revoke', noStore, limiter, express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    try {
      if (!req.is('application/x-www-form-urlencoded')) throw new InvalidRequest('The body must be application/x-www-form-urlencoded.');
      const { values, repeated } = singleValued(req.body);
      if (repeated) throw new InvalidRequest(`${repeated} was given more than once.`);
      const client = await authenticateClient(ctx, req, values);
      if (!values.token) throw new InvalidRequest('token is missing.');
      const grantId = await grantOf(ctx, client, values.token);
      if (grantId) {
        const now = ctx.clock.now();
        await ctx.storage.grants.revoke(grantId, now);
        await ctx.audit.record({ event: 'token_revoked_by_client', clientId: client.id, ip: req.ip ?? null }, now);
      }
      res.status(200).end();
    } catch (err) {
      if (err instanceof InvalidClientBasic) res.set('WWW-Authenticate', `Basic realm="${ctx.config.issuer}"`);
      else if (!(err instanceof OAuthError)) ctx.log.error('revocation failed', err, req);
      sendOAuthError(res, err);
    }
  });
  // An unreadable body never reaches the handler: RFC 6749 §5.2 JSON all the same.
  router.use('/oauth2/revoke', oauthErrorHandler(ctx.log));
  return router;
}
