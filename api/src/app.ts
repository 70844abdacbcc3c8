import type { RequestListener } from 'node:http';
import express, { Router } from 'express';
import type { AppContext } from './context.js';
import { healthRouter } from './health.js';
import { ApiError, apiErrorHandler } from './http/api-error.js';
import { limitPerIp } from './http/rate-limit.js';
import { capturedSecurityHeaders, securityHeaders } from './http/security-headers.js';
import type { TrustProxy } from './http/client-ip.js';
import { cors } from './http/cors.js';
import { hotRouter, staticDocumentRoute } from './http/hot-routes.js';
import { interactionRouter } from './interaction/routes.js';
import { metricsRouter } from './metrics/endpoint.js';
import { observeHotRequests, timeRequests } from './metrics/http.js';
import { authorizeRouter } from './oidc/authorize/index.js';
import { endSessionRouter } from './oidc/end-session.js';
import { revocationRouter } from './oidc/revocation.js';
import { publicDocuments } from './oidc/discovery.js';
import { oauthErrorHandler } from './oidc/error-response.js';
import { tokenRouter } from './oidc/token/index.js';
import { userinfoRoute } from './oidc/userinfo.js';
import { sessionRouter } from './session/routes.js';
import { restRouter } from './rest/index.js';
import { DEFAULT_WEB_DIR, spaRouter } from './web/spa.js';

/**
 * The HTTP request listener: the hot protocol endpoints (discovery and JWKS from precomputed
 * bytes, userinfo) answered before Express, then the Express application with every other
 * route, in order, then the error handlers. Both carry the same security headers and are timed
 * for the request-duration histogram.
 */
export function createApp(ctx: AppContext): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('etag', false);
  app.use(timeRequests(ctx.metrics));

  // helmet stays the one source of the headers; its output is captured once and applied by
  // one middleware (helmet's headers depend on nothing in the request).
  const security = securityHeaders(ctx.config.issuer);
  app.use(capturedSecurityHeaders(security));

  const routes = Router();
  routes.use(healthRouter(ctx));
  routes.use(metricsRouter(ctx));
  // Userinfo itself is a hot route; CORS here still covers its other methods and sub-paths.
  routes.use(['/oauth2/token', '/oauth2/revoke', '/oauth2/userinfo'], cors);
  routes.use(tokenRouter(ctx));
  routes.use(oauthErrorHandler(ctx.log));
  routes.use(
    ['/oauth2/authorize', '/oauth2/end_session', '/api'],
    limitPerIp(ctx.config.rateLimit.api, ctx.config.rateLimit.windowSeconds, (req, res, next) => {
      // Mounted on two paths: req.path is below the mount point, req.baseUrl names it.
      if (req.baseUrl.endsWith('/oauth2/authorize')) res.status(429).type('text').send('Too many requests. Retry later.');
      else next(new ApiError('rate_limited', 429, 'Too many requests. Wait a moment and try again.'));
    }),
  );
  routes.use(authorizeRouter(ctx));
  routes.use(endSessionRouter(ctx));
  routes.use(revocationRouter(ctx));
  const loginLimit = limitPerIp(ctx.config.rateLimit.login, ctx.config.rateLimit.windowSeconds, (_req, _res, next) =>
    next(new ApiError('rate_limited', 429, 'Too many attempts. Wait a moment and try again.')),
  );
  routes.use(interactionRouter(ctx, loginLimit));
  routes.use(sessionRouter(ctx, loginLimit));
  routes.use(restRouter(ctx, loginLimit).router);
  routes.use('/api', (_req, _res, next) => next(ApiError.notFound('No such API endpoint.')));
  routes.use('/api', apiErrorHandler(ctx.log));
  routes.use(spaRouter(ctx.config.webDir ?? DEFAULT_WEB_DIR));

  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  app.use(base || '/', routes);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  app.use(oauthErrorHandler(ctx.log));

  const hot = hotRouter(
    base,
    [
      ...publicDocuments(ctx).map((doc) => staticDocumentRoute(security, doc)),
      userinfoRoute(ctx, security, app.get('trust proxy fn') as TrustProxy),
    ],
    observeHotRequests(ctx.metrics),
  );
  return (req, res) => {
    if (!hot(req, res)) app(req, res);
  };
}
