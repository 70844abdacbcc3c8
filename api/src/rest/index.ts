import type { RequestHandler } from 'express';
import type { AppContext } from '../context.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminClientRoutes } from './admin-clients.js';
import { adminGroupRoutes } from './admin-groups.js';
import { adminInvitationRoutes } from './admin-invitations.js';
import { adminUpstreamRoutes } from './admin-upstreams.js';
import { adminUserRoutes } from './admin-users.js';
import { apiTokenRoutes } from './api-tokens.js';
import { credentialRoutes } from './credentials.js';
import { enrolmentRoutes } from './enrolment.js';
import { meRoutes } from './me.js';
import { meMfaRoutes } from './me-mfa.js';
import { meUpstreamRoutes } from './me-upstreams.js';
import { passwordLinkRoutes } from './password-links.js';
import type { RestRoutes } from './route.js';

/** The REST identity API (`/api/v1`) for the portal and for automation. */
export function restRoutes(ctx: AppContext, routes: RestRoutes, attemptLimit: RequestHandler): void {
  meRoutes(ctx, routes);
  meMfaRoutes(ctx, routes, attemptLimit);
  meUpstreamRoutes(ctx, routes, attemptLimit);
  apiTokenRoutes(ctx, routes);
  credentialRoutes(ctx, routes);
  adminUserRoutes(ctx, routes);
  adminGroupRoutes(ctx, routes);
  passwordLinkRoutes(ctx, routes, attemptLimit);
  adminClientRoutes(ctx, routes);
  adminInvitationRoutes(ctx, routes);
  adminUpstreamRoutes(ctx, routes);
  adminAuditRoutes(ctx, routes);
  enrolmentRoutes(ctx, routes, attemptLimit);
}
