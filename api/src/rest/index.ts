import { Router, type RequestHandler } from 'express';
import type { AppContext } from '../context.js';
import { AccessTokenVerifier } from '../oidc/tokens/access-token.js';
import { apiTokenRoutes } from './api-tokens.js';
import { meRoutes } from './me.js';
import { meMfaRoutes } from './me-mfa.js';
import { openapiRouter } from './openapi.js';
import { RestRoutes } from './route.js';

/** The REST identity API (`/api/v1`) for the portal and for automation. */
export function restRouter(ctx: AppContext, attemptLimit: RequestHandler): { router: Router; routes: RestRoutes } {
  const router = Router();
  const routes = new RestRoutes(ctx, router, new AccessTokenVerifier(ctx.keys, ctx.config.issuer));
  meRoutes(ctx, routes);
  meMfaRoutes(ctx, routes, attemptLimit);
  apiTokenRoutes(ctx, routes);
  router.use(openapiRouter(ctx, routes));
  return { router, routes };
}
