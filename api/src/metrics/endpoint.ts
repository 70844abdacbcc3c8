import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.js';
import { ApiError, apiErrorBody } from '../http/api-error.js';
import { limitPerIp } from '../http/rate-limit.js';
import { safeEqual } from '../lib/hash.js';
import { ipAllowList } from './allow-list.js';

function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

function refuse(res: Response, err: ApiError, challenge?: string): void {
  if (challenge) res.set('WWW-Authenticate', challenge);
  res.status(err.status).set('Cache-Control', 'no-store').json(apiErrorBody(err));
}

/**
 * `GET /metrics` in the Prometheus text format, for a scraper that sends
 * `Authorization: Bearer <metrics.token>` or connects from an address in `metrics.allow`
 * (the client IP as `trust proxy` resolves it). Rate limited per IP like the API.
 */
export function metricsRouter(ctx: AppContext): Router {
  const { token, allow } = ctx.config.metrics;
  const allowed = ipAllowList(allow);
  const realm = ctx.config.issuer;
  const limit = limitPerIp(ctx.config.rateLimit.api, ctx.config.rateLimit.windowSeconds, (_req, res) =>
    refuse(res, new ApiError('rate_limited', 429, 'Too many requests. Wait a moment and try again.')),
  );
  const router = Router();
  router.get('/metrics', limit, async (req, res) => {
    const presented = presentedToken(req);
    const byToken = token !== undefined && presented !== undefined && safeEqual(presented, token);
    if (!byToken && !allowed(req.ip)) {
      if (token === undefined) {
        refuse(res, new ApiError('forbidden', 403, 'Metrics are not available from this address.'));
      } else if (presented === undefined) {
        refuse(res, ApiError.unauthenticated('Send the metrics token as a Bearer token.'), `Bearer realm="${realm}"`);
      } else {
        refuse(
          res,
          new ApiError('invalid_token', 401, 'The metrics token is not correct.'),
          `Bearer realm="${realm}", error="invalid_token"`,
        );
      }
      return;
    }
    const body = await ctx.metrics.registry.metrics();
    res.status(200).set('Content-Type', ctx.metrics.registry.contentType).set('Cache-Control', 'no-store').send(body);
  });
  return router;
}
