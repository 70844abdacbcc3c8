import express, { Router } from 'express';
import helmet from 'helmet';
import type { AppContext } from './context.js';
import { healthRouter } from './health.js';
import { ApiError, apiErrorHandler } from './http/api-error.js';
import { limitPerIp } from './http/rate-limit.js';
import { interactionRouter } from './interaction/routes.js';
import { authorizeRouter } from './oidc/authorize/index.js';
import { discoveryRouter } from './oidc/discovery.js';
import { oauthErrorHandler } from './oidc/error-response.js';
import { tokenRouter } from './oidc/token/index.js';
import { userinfoRouter } from './oidc/userinfo.js';
import { sessionRouter } from './session/routes.js';
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

/** The HTTP application: every route, in order, then the error handlers. */
export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('etag', false);

  const https = new URL(ctx.config.issuer).protocol === 'https:';
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
      },
      // Authorization responses carry codes in the URL; never leak them in a Referer.
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: https ? { maxAge: 31536000, includeSubDomains: false } : false,
    }),
  );

  const routes = Router();
  routes.use(healthRouter(ctx));
  routes.use(discoveryRouter(ctx));
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
  routes.use('/api', (_req, _res, next) => next(ApiError.notFound('No such API endpoint.')));
  routes.use('/api', apiErrorHandler(ctx.log));
  routes.use(spaRouter(ctx.config.webDir ?? DEFAULT_WEB_DIR));

  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  app.use(base || '/', routes);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  app.use(oauthErrorHandler(ctx.log));
  return app;
}
