import { Capabilities } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import type { RestRoutes } from './route.js';

/** What this Gatehouse offers with its identity backend; the SPA hides the rest. */
export function capabilitiesOf(ctx: AppContext): Capabilities {
  const { kind, capabilities: c } = ctx.identity;
  return {
    identityBackend: kind,
    manageUsers: c.manageUsers,
    recoveryCodes: c.recoveryCodes,
    emailLogin: c.emailLogin,
    backendTokens: c.backendTokens,
  };
}

/** `GET /api/v1/capabilities`: public, so the sign-in screens can adapt before anyone is signed in. */
export function capabilityRoutes(ctx: AppContext, routes: RestRoutes): void {
  const answer = capabilitiesOf(ctx);
  routes.addPublic(
    { method: 'get', path: '/api/v1/capabilities', summary: 'What this Gatehouse offers', scope: 'public', response: Capabilities },
    async () => answer,
    [],
  );
}
