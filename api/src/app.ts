import type { RequestListener } from 'node:http';
import express, { Router } from 'express';
import type { AppContext } from './context.js';
import { healthRouter } from './health.js';
import { ApiError, apiErrorHandler } from './http/api-error.js';
import { limitPerIp } from './http/rate-limit.js';
import { securityHeaders } from './http/security-headers.js';
import { staticResponder } from './http/static-documents.js';
import { interactionRouter } from './interaction/routes.js';
import { authorizeRouter } from './oidc/authorize/index.js';
import { publicDocuments } from './oidc/discovery.js';
import { oauthErrorHandler } from './oidc/error-response.js';
import { tokenRouter } from './oidc/token/index.js';
import { userinfoRouter } from './oidc/userinfo.js';
import { sessionRouter } from './session/routes.js';
import { meMfaRouter } from './rest/me-mfa.js';
import { DEFAULT_WEB_DIR, spaRouter } from './web/spa.js';

/** CORS for the endpoints browser-based clients call directly; no cookies are involved there. */
const corsPaths = ['/oauth2/token', '/oauth2/userinfo'];
const cors: express.RequestHandler = (req, res, next) => {
  res.set('Access-Control-Allow-Origin', '*').set('Cross-Origin-Resource-Policy', 'cross-origin');
  if (req.method === 'OPTIONS') {
    res.set('Access-Control-Allow-Methods', 'GET, POST').set('Access-Control-Allow-Headers', 'Authorization, Content-Type').set('Access-Control-Max-Age', '600');
    res.status(204).end();
    return;
  }
  next();
};

/**
 * The HTTP request listener: the public static documents (discovery, JWKS) answered from
 * precomputed bytes, then the Express application with every other route, in order, then the
 * error handlers. Both carry the same security headers.
 */
export function createApp(ctx: AppContext): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('etag', false);

  const security = securityHeaders(ctx.config.issuer);
  app.use(security);

  const routes = Router();
  routes.use(healthRouter(ctx));
  routes.use(corsPaths, cors);
  routes.use(tokenRouter(ctx));
  routes.use(userinfoRouter(ctx));
  routes.use(oauthErrorHandler(ctx.log));
  routes.use(
    ['/oauth2/authorize', '/api'],
    limitPerIp(ctx.config.rateLimit.api, ctx.config.rateLimit.windowSeconds, (req, res, next) => {
      if (req.path.startsWith('/oauth2')) res.status(429).type('text').send('Too many requests. Retry later.');
      else next(new ApiError('rate_limited', 429, 'Too many requests. Wait a moment and try again.'));
    }),
  );
  routes.use(authorizeRouter(ctx));
  const loginLimit = limitPerIp(ctx.config.rateLimit.login, ctx.config.rateLimit.windowSeconds, (_req, _res, next) =>
    next(new ApiError('rate_limited', 429, 'Too many attempts. Wait a moment and try again.')),
  );
  routes.use(interactionRouter(ctx, loginLimit));
  routes.use(sessionRouter(ctx, loginLimit));
  routes.use(meMfaRouter(ctx, loginLimit));
  routes.use('/api', (_req, _res, next) => next(ApiError.notFound('No such API endpoint.')));
  routes.use('/api', apiErrorHandler(ctx.log));
  routes.use(spaRouter(ctx.config.webDir ?? DEFAULT_WEB_DIR));

  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  app.use(base || '/', routes);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  app.use(oauthErrorHandler(ctx.log));

  const answerStatic = staticResponder(base, security, publicDocuments(ctx));
  return (req, res) => {
    if (!answerStatic(req, res)) app(req, res);
  };
}
