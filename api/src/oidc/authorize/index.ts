import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { noStore } from '../../http/no-store.js';
import { browserBinding, loadInteraction, screenUrl } from '../../interaction/browser.js';
import type { Interaction } from '../../storage/interactions.js';
import { NotAllowed, recordPolicyDenial } from '../access-policy.js';
import { InvalidRequest, OAuthError } from '../errors.js';
import { decide, type Decision } from './decide.js';
import { sendErrorPage } from './error-page.js';
import type { AuthorizeRequest, TrustedTarget } from './request.js';
import { errorRedirect, issueCode } from './respond.js';
import { trustTarget, validateRequest } from './validate.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2):
 *   trustTarget (client, redirect_uri) → validateRequest (params, response_type, scope, PKCE,
 *   prompt) → decide (session, consent) → a code, or an interaction the SPA completes, after
 *   which the browser comes back to `GET /oauth2/authorize/:interaction` to resume.
 */
export function authorizeRouter(ctx: AppContext): Router {
  const router = Router();
  // Authorization responses carry codes and per-user decisions: never cache them.
  router.use('/oauth2/authorize', noStore);

  async function answer(req: Request, res: Response, run: (target: (t: TrustedTarget) => void) => Promise<void>) {
    let target: TrustedTarget | undefined;
    try {
      await run((t) => (target = t));
    } catch (err) {
      if (!(err instanceof OAuthError)) ctx.log.error('authorize failed', err, req);
      const oauthErr = err instanceof OAuthError ? err : new OAuthError('server_error', 'The server could not complete the request.', 500);
      if (oauthErr instanceof NotAllowed && target) {
        if (!oauthErr.recorded) await recordPolicyDenial(ctx, oauthErr.userId, target.client.id, req.ip ?? null);
      } else if (oauthErr.error === 'access_denied' && target) {
        await ctx.audit.record(
          { event: 'authorize_denied', clientId: target.client.id, ip: req.ip ?? null, detail: { reason: oauthErr.description } },
          ctx.clock.now(),
        );
      }
      if (target) res.redirect(303, errorRedirect(ctx, target, oauthErr));
      else sendErrorPage(res, oauthErr);
    }
  }

  async function act(req: Request, res: Response, request: AuthorizeRequest, decision: Decision, interaction?: Interaction) {
    if (decision.next === 'issue') {
      if (interaction && !(await ctx.storage.interactions.delete(interaction.id))) {
        throw new InvalidRequest('This sign-in request was already completed.');
      }
      res.redirect(303, await issueCode(ctx, request, decision.session));
      return;
    }
    if (decision.next === 'denied' && interaction?.prompt !== 'denied') {
      await recordPolicyDenial(ctx, decision.session.userId, request.client.id, req.ip ?? null);
    }
    if (interaction) {
      await ctx.storage.interactions.update(interaction.id, { prompt: decision.next });
      res.redirect(303, screenUrl(ctx, decision.next, interaction.id));
      return;
    }
    const now = ctx.clock.now();
    const id = ctx.random.token(16);
    await ctx.storage.interactions.insert({
      id,
      browserHash: browserBinding(ctx, req, res),
      clientId: request.client.id,
      params: request.params,
      prompt: decision.next,
      forceLogin: decision.forceLogin,
      sessionId: null,
      consent: null,
      createdAt: now,
      expiresAt: now + ctx.config.ttl.interaction,
    });
    res.redirect(303, screenUrl(ctx, decision.next, id));
  }

  router.get('/oauth2/authorize', (req, res) =>
    answer(req, res, async (trusted) => {
      const target = await trustTarget(ctx, req.query);
      trusted(target);
      const request = validateRequest(req.query, target);
      await act(req, res, request, await decide(ctx, request, await ctx.sessions.current(req)));
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
      res.redirect(303, `${ctx.config.issuer}/oauth2/authorize?${query}`);
    }),
  );

  router.get('/oauth2/authorize/:id', async (req, res) => {
    const interaction = await loadInteraction(ctx, req, req.params.id);
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
      try {
        const request = validateRequest(interaction.params, target);
        await act(req, res, request, await decide(ctx, request, await ctx.sessions.current(req), interaction), interaction);
      } catch (err) {
        await ctx.storage.interactions.delete(interaction.id);
        throw err;
      }
    });
  });

  return router;
}
