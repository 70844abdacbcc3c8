import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { noStore } from '../../http/no-store.js';
import type { PerIpLimit } from '../../http/rate-limit.js';
import { InvalidRequest, OAuthError } from '../errors.js';
import { errorPageHandler, sendErrorPage } from './error-page.js';
import { begin, complete, loadPending, recordFailure } from './pending.js';
import type { TrustedTarget } from './request.js';
import { errorRedirect } from './respond.js';
import { trustTarget, validateRequest } from './validate.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2):
 *   rate limit → trustTarget (client, redirect_uri) → validateRequest (params, response_type,
 *   scope, PKCE, prompt) → the pending request (pending.ts) decides: a code, or an interaction
 *   the SPA completes, after which the browser comes back to `GET /oauth2/authorize/:interaction`.
 * Errors before the redirect URI is trusted are an error page; after, a redirect (§4.1.2.1).
 */
export function authorizeRouter(ctx: AppContext, budget: PerIpLimit): Router {
  const router = Router();
  // Authorization responses carry codes and per-user decisions: never cache them. Past the
  // limit the browser gets plain text: there is no one yet to redirect an error to.
  router.use(
    '/oauth2/authorize',
    noStore,
    budget.middleware((_req, res) => {
      res.status(429).type('text').send('Too many requests. Retry later.');
    }),
  );

  async function answer(req: Request, res: Response, run: (trusted: (t: TrustedTarget) => void) => Promise<string>) {
    let target: TrustedTarget | undefined;
    try {
      res.redirect(303, await run((t) => (target = t)));
    } catch (err) {
      if (!(err instanceof OAuthError)) ctx.log.error('authorize failed', err, req);
      const oauthErr = err instanceof OAuthError ? err : new OAuthError('server_error', 'The server could not complete the request.', 500);
      if (!target) return sendErrorPage(res, oauthErr);
      await recordFailure(ctx, req, target, oauthErr);
      res.redirect(303, errorRedirect(ctx, target, oauthErr));
    }
  }

  router.get('/oauth2/authorize', (req, res) =>
    answer(req, res, async (trusted) => {
      const target = await trustTarget(ctx, req.query);
      trusted(target);
      return begin(ctx, req, res, validateRequest(req.query, target));
    }),
  );

  // A cross-site POST carries no SameSite=Lax cookies, so after validating the request we
  // send the browser to the GET form, which does.
  router.post('/oauth2/authorize', express.urlencoded({ extended: false, limit: '32kb' }), (req, res) =>
    answer(req, res, async (trusted) => {
      const target = await trustTarget(ctx, req.body);
      trusted(target);
      const request = validateRequest(req.body, target);
      const query = new URLSearchParams(Object.entries(request.params).filter((e): e is [string, string] => e[1] !== undefined));
      return `${ctx.config.issuer}/oauth2/authorize?${query}`;
    }),
  );

  router.get('/oauth2/authorize/:id', async (req, res) => {
    const interaction = await loadPending(ctx, req, req.params.id);
    if (!interaction) {
      sendErrorPage(
        res,
        new InvalidRequest('This sign-in request has expired or was started in another browser.'),
        'This sign-in request has expired',
      );
      return;
    }
    await answer(req, res, async (trusted) => {
      const target = await trustTarget(ctx, interaction.params);
      trusted(target);
      return complete(ctx, req, interaction, target);
    });
  });

  router.use('/oauth2/authorize', errorPageHandler(ctx.log));
  return router;
}
