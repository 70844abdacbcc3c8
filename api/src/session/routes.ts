import { Router } from 'express';
import type { SessionView } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';

/**
 *   GET  /api/v1/session          who is signed in on this browser
 *   POST /api/v1/session/logout   sign out: ends the session and its session-bound grants
 */
export function sessionRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/api/v1/session', requireSameOrigin(new URL(ctx.config.issuer).origin));

  router.get('/api/v1/session', async (req, res) => {
    const session = await ctx.sessions.current(req);
    const user = session && (await ctx.identity.findUser(session.userId));
    if (!session || !user) throw ApiError.unauthenticated('Nobody is signed in on this browser.');
    const view: SessionView = { user, authTime: session.authTime, expiresAt: session.expiresAt };
    res.set('Cache-Control', 'no-store').json(view);
  });

  router.post('/api/v1/session/logout', async (req, res) => {
    const session = await ctx.sessions.signOut(req, res);
    if (session) await ctx.audit.record({ event: 'logout', userId: session.userId, ip: req.ip ?? null }, ctx.clock.now());
    res.status(204).end();
  });

  return router;
}
