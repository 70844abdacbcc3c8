import { Router } from 'express';
import type { AppContext } from './context.js';

/** Liveness: the process answers. Readiness: the database and the identity backend answer too. */
export function healthRouter(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    try {
      await ctx.storage.ping();
      await ctx.identity.ready();
      res.set('Cache-Control', 'no-store').json({ status: 'ready' });
    } catch (err) {
      ctx.log.error('readiness check failed', err, req);
      res.status(503).set('Cache-Control', 'no-store').json({ status: 'unavailable' });
    }
  });
  return router;
}
