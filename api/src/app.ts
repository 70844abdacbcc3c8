import type { RequestListener } from 'node:http';
import express, { Router, type RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { healthRouter } from './health.js';
import { ApiError, apiErrorHandler } from './http/api-error.js';
import { PerIpLimit, limitPerIp } from './http/rate-limit.js';
import { capturedSecurityHeaders, securityHeaders } from './http/security-headers.js';
import type { TrustProxy } from './http/client-ip.js';
import { cors } from './http/cors.js';
import { hotRouter, staticDocumentRoute } from './http/hot-routes.js';
import { interactionRoutes } from './interaction/routes.js';
import { sessionRoutes } from './interaction/session-routes.js';
import { upstreamRouter } from './interaction/upstream-routes.js';
import { metricsRouter } from './metrics/endpoint.js';
import { observeHotRequests, timeRequests } from './metrics/http.js';
import { authorizeRouter } from './oidc/authorize/index.js';
import { endSessionRouter } from './oidc/end-session.js';
import { revocationRouter } from './oidc/revocation.js';
import { publicDocuments } from './oidc/discovery.js';
import { oauthErrorHandler } from './oidc/error-response.js';
import { tokenRouter } from './oidc/token/index.js';
import { userinfoRoute } from './oidc/userinfo.js';
import { restRoutes } from './rest/index.js';
import { openapiRouter } from './rest/openapi.js';
import { RestRoutes } from './rest/route.js';
import { DEFAULT_WEB_DIR, spaRouter } from './web/spa.js';

const tooManyAttempts: RequestHandler = (_req, _res, next) =>
  next(new ApiError('rate_limited', 429, 'Too many attempts. Wait a moment and try again.'));

/**
 * The JSON API under `/api`: the sign-in screens' endpoints and the REST identity API, all
 * declared through one contract (RestRoutes: validation, scopes, the OpenAPI document). It
 * owns its rate limit and its error responder: every failure is the one REST error shape.
 */
export function jsonApiRouter(ctx: AppContext, budget: PerIpLimit, loginLimit: RequestHandler): { router: Router; routes: RestRoutes } {
  const router = Router();
  router.use(
    '/api',
    budget.middleware((_req, _res, next) => next(new ApiError('rate_limited', 429, 'Too many requests. Wait a moment and try again.'))),
  );
  const routes = new RestRoutes(ctx, router);
  interactionRoutes(ctx, routes, loginLimit);
  sessionRoutes(ctx, routes, loginLimit);
  restRoutes(ctx, routes, loginLimit);
  router.use(openapiRouter(ctx, routes));
  router.use('/api', (_req, _res, next) => next(ApiError.notFound('No such API endpoint.')));
  router.use('/api', apiErrorHandler(ctx.log));
  return { router, routes };
}

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

  const window = ctx.config.rateLimit.windowSeconds;
  // One per-IP budget for the browser-facing endpoints; each router answers 429 in its own shape.
  const budget = new PerIpLimit(ctx.config.rateLimit.api, window);
  const routes = Router();
  routes.use(healthRouter(ctx));
  routes.use(metricsRouter(ctx));
  // Userinfo itself is a hot route; CORS here still covers its other methods and sub-paths.
  routes.use(['/oauth2/token', '/oauth2/revoke', '/oauth2/userinfo'], cors);
  routes.use(tokenRouter(ctx));
  routes.use(authorizeRouter(ctx, budget));
  routes.use(endSessionRouter(ctx, budget));
  routes.use(upstreamRouter(ctx, budget));
  routes.use(revocationRouter(ctx));
  routes.use(jsonApiRouter(ctx, budget, limitPerIp(ctx.config.rateLimit.login, window, tooManyAttempts)).router);
  routes.use(spaRouter(ctx.config.webDir ?? DEFAULT_WEB_DIR));

  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  app.use(base || '/', routes);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  // Each router answers its own errors; what is left (a failure in health, metrics or the SPA
  // routes) is answered in RFC 6749 §5.2 JSON, and logged when it is ours.
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
