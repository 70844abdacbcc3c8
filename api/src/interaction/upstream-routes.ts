import { Router, type Request, type Response } from 'express';
import type { OAuthErrorCode } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { accountFor, linkTo, type FederatedAccount } from '../federation/accounts.js';
import { identityOf } from '../federation/identity.js';
import type { Upstream } from '../federation/registry.js';
import { UpstreamFailure, redeem } from '../federation/relying-party.js';
import { startUpstream, takeUpstream, type PendingUpstream } from '../federation/start.js';
import { noStore } from '../http/no-store.js';
import type { PerIpLimit } from '../http/rate-limit.js';
import { sendErrorPage } from '../oidc/authorize/error-page.js';
import * as pending from '../oidc/authorize/pending.js';
import { OAuthError } from '../oidc/errors.js';
import { awaitSecondFactor } from '../session/sign-in.js';
import type { Interaction } from '../storage/interactions.js';

const TITLE = 'Signing in did not work';

/** A failure shown on the error page; `status` is its HTTP status. */
const page = (res: Response, status: number, message: string, code: OAuthErrorCode = 'access_denied') =>
  sendErrorPage(res, new OAuthError(code, message, status), TITLE);

const oneValue = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 2048 ? v : undefined);

/**
 * Signing in with an upstream identity provider (federation), in the browser:
 *   GET /oauth2/upstream/:id/start      ?interaction= (an authorization request) | ?invitation= | nothing (the portal)
 *   GET /oauth2/upstream/:id/callback   where the upstream sends the browser back
 * The callback finds its sign-in by `state` (single-use, this browser's), has openid-client
 * verify the answer, finds or makes the account (federation/accounts.ts) and signs in with
 * amr `fed` and the upstream as `idp`; the authorization request then goes on as after a
 * password. Every refusal is audited as `upstream_failure` and ends on the error page, or —
 * when the person cancelled at the upstream during an authorization request — goes back to
 * the application as access_denied.
 */
export function upstreamRouter(ctx: AppContext, budget: PerIpLimit): Router {
  const router = Router();
  router.use(
    '/oauth2/upstream',
    noStore,
    budget.middleware((_req, res) => {
      res.status(429).type('text').send('Too many requests. Retry later.');
    }),
  );

  async function failed(req: Request, res: Response, upstreamId: string, err: unknown, interaction?: Interaction): Promise<void> {
    if (!(err instanceof UpstreamFailure)) {
      ctx.log.error('upstream sign-in failed', err, req);
      return page(res, 500, 'Something went wrong on our side. Try again.', 'server_error');
    }
    await ctx.audit.record(
      {
        event: 'upstream_failure',
        clientId: interaction?.clientId ?? null,
        ip: req.ip ?? null,
        detail: { upstream: upstreamId, reason: err.reason },
      },
      ctx.clock.now(),
    );
    if (err.reason === 'access_denied' && interaction) {
      return res.redirect(303, pending.locationOf(ctx, interaction, await pending.abort(ctx, interaction)));
    }
    page(res, err.reason === 'unreachable' || err.reason === 'discovery_failed' ? 502 : 403, err.message);
  }

  function usableUpstream(res: Response, id: string): Upstream | undefined {
    if (!ctx.identity.capabilities.federation) {
      page(res, 501, 'Signing in with another identity provider is not possible with this identity backend.', 'invalid_request');
      return undefined;
    }
    const upstream = ctx.upstreams.get(id);
    if (!upstream) page(res, 404, 'This identity provider is not known here.', 'invalid_request');
    return upstream;
  }

  router.get('/oauth2/upstream/:id/start', async (req, res) => {
    const upstream = usableUpstream(res, req.params.id);
    if (!upstream) return;
    const interactionId = oneValue(req.query.interaction);
    const interaction = interactionId === undefined ? undefined : await pending.loadPending(ctx, req, interactionId);
    if (interactionId !== undefined && !interaction) {
      return page(res, 404, 'This sign-in request has expired. Go back to the application and start again.', 'invalid_request');
    }
    try {
      const invitation = oneValue(req.query.invitation);
      const location = await startUpstream(ctx, req, res, upstream, {
        purpose: 'login',
        interactionId: interaction?.id ?? null,
        ...(invitation !== undefined && { invitation }),
      });
      res.redirect(303, location);
    } catch (err) {
      await failed(req, res, upstream.id, err, interaction);
    }
  });

  /** Signs the account in; answers where the browser goes next. */
  async function signIn(
    req: Request,
    res: Response,
    upstream: Upstream,
    account: FederatedAccount,
    interaction?: Interaction,
  ): Promise<string> {
    const { user } = account;
    const issuer = ctx.config.issuer;
    if (upstream.settings.require_mfa && user.totpEnabled) {
      await awaitSecondFactor(ctx, req, res, user.id, {
        interactionId: interaction?.id ?? null,
        clientId: interaction?.clientId ?? null,
        remember: false,
        idp: upstream.id,
      });
      if (!interaction) return `${issuer}/mfa`;
      return pending.locationOf(ctx, interaction, await pending.awaitSecondStep(ctx, interaction));
    }
    const session = await ctx.sessions.signIn(req, res, user.id, ['fed'], false, undefined, upstream.id);
    const now = ctx.clock.now();
    await ctx.identity.directory.recordLogin(user.id, now);
    await ctx.audit.record(
      {
        event: 'upstream_login',
        userId: user.id,
        clientId: interaction?.clientId ?? null,
        ip: req.ip ?? null,
        detail: { upstream: upstream.id, created: account.created },
      },
      now,
    );
    if (interaction) return pending.locationOf(ctx, interaction, await pending.signedIn(ctx, req, interaction, session));
    // Without a second factor yet, someone who must have one is led to set it up.
    return upstream.settings.require_mfa ? `${issuer}/security` : `${issuer}/`;
  }

  router.get('/oauth2/upstream/:id/callback', async (req, res) => {
    const upstream = usableUpstream(res, req.params.id);
    if (!upstream) return;
    let flow: PendingUpstream | undefined;
    let interaction: Interaction | undefined;
    try {
      const state = oneValue(req.query.state);
      if (state === undefined)
        throw new UpstreamFailure('missing_state', 'The identity provider sent the browser back without its sign-in. Start again.');
      flow = await takeUpstream(ctx, req, upstream.id, state);
      const interactionId = flow.state.interactionId;
      interaction = interactionId === null ? undefined : await pending.loadPending(ctx, req, interactionId);
      if (interactionId !== null && !interaction) {
        throw new UpstreamFailure('interaction_expired', 'This sign-in request has expired. Go back to the application and start again.');
      }
      const config = await ctx.upstreams.parties.configuration(upstream);
      const redirectUri = ctx.upstreams.callbackUrl(upstream.id);
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      const answer = await redeem(config, upstream, new URL(`${redirectUri}${query}`), redirectUri, state, flow.secrets);
      const identity = await identityOf(upstream.settings, answer, ctx.upstreams.timeoutMs);

      if (flow.state.purpose === 'link') {
        // The link is for the account that asked, and only while that account is still signed in here.
        const session = await ctx.sessions.current(req);
        if (!session || session.userId !== flow.state.userId) {
          throw new UpstreamFailure('session_changed', 'Sign in to Gatehouse again, then link the account from Security.');
        }
        await linkTo(ctx, upstream, identity, session.userId, req.ip ?? null);
        return res.redirect(303, `${ctx.config.issuer}/security?linked=${encodeURIComponent(upstream.id)}`);
      }
      const account = await accountFor(ctx, upstream, identity, flow.secrets.invitation, req.ip ?? null);
      res.redirect(303, await signIn(req, res, upstream, account, interaction));
    } catch (err) {
      await failed(req, res, upstream.id, err, interaction);
    }
  });

  return router;
}
