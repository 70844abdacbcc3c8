import express, { Router } from 'express';
import type { AppContext } from '../../context.js';
import { sendJson } from '../../http/json.js';
import { noStore } from '../../http/no-store.js';
import { limitPerIp } from '../../http/rate-limit.js';
import { singleValued } from '../../http/validate.js';
import { OAuthError, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors.js';
import { oauthErrorHandler, sendOAuthError } from '../error-response.js';
import { InvalidClientBasic, authenticateClient, claimedClientId } from './client-auth.js';
import { exchangeCode } from './grants/authorization-code.js';
import { refresh } from './grants/refresh-token.js';

const GRANTS = { authorization_code: exchangeCode, refresh_token: refresh } as const;

/**
 * The token endpoint (RFC 6749 §3.2):
 *   noStore → rate limit → form body → single-valued params → client auth → grant type
 *   allowed for the client → the grant's handler.
 */
export function tokenRouter(ctx: AppContext): Router {
  const router = Router();
  const limiter = limitPerIp(ctx.config.rateLimit.token, ctx.config.rateLimit.windowSeconds, (_req, res) =>
    sendOAuthError(res, new OAuthError('temporarily_unavailable', 'Too many requests. Retry later.', 429)),
  );

  router.post('/oauth2/token', noStore, limiter, express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const ip = req.ip ?? null;
    let body: Record<string, string> = {};
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new InvalidRequest('The body must be application/x-www-form-urlencoded.');
      }
      const parsed = singleValued(req.body);
      body = parsed.values;
      const { repeated } = parsed;
      if (repeated) throw new InvalidRequest(`${repeated} was given more than once.`);
      const client = await authenticateClient(ctx, req, body);
      const grantType = body.grant_type;
      if (!grantType) throw new InvalidRequest('grant_type is missing.');
      if (!Object.hasOwn(GRANTS, grantType)) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported.`);
      if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient(`This client may not use the ${grantType} grant.`);
      sendJson(res, await GRANTS[grantType as keyof typeof GRANTS](ctx, client, body, ip));
    } catch (err) {
      if (err instanceof OAuthError) {
        await ctx.audit.record(
          {
            event: 'token_failure',
            clientId: claimedClientId(req, body),
            ip,
            detail: { error: err.error, reason: err.description, grant_type: body.grant_type ?? null },
          },
          ctx.clock.now(),
        );
        if (err instanceof InvalidClientBasic) res.set('WWW-Authenticate', `Basic realm="${ctx.config.issuer}"`);
      } else {
        ctx.log.error('token endpoint failed', err, req);
      }
      sendOAuthError(res, err);
    }
  });

  router.all('/oauth2/token', (_req, res) => {
    res.set('Allow', 'POST');
    sendOAuthError(res, new OAuthError('invalid_request', 'Use POST.', 405));
  });

  // An unreadable body never reaches the handler: RFC 6749 §5.2 JSON all the same.
  router.use('/oauth2/token', oauthErrorHandler(ctx.log));
  return router;
}
