import express, { Router, type Request, type RequestHandler } from 'express';
import { ConsentDecision, LoginRequest, MfaRequest, describeScope, type InteractionNext, type InteractionView } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';
import { completeChallenge, passwordSignIn, pendingChallenge, verifySecondFactor } from '../session/sign-in.js';
import { parseBody } from '../http/validate.js';
import { recordPolicyDenial } from '../oidc/access-policy.js';
import { decide } from '../oidc/authorize/decide.js';
import { trustTarget, validateRequest } from '../oidc/authorize/validate.js';
import { OAuthError } from '../oidc/errors.js';
import type { Interaction } from '../storage/interactions.js';
import { loadInteraction, resumeUrl } from './browser.js';

/**
 * JSON endpoints the SPA drives to complete a pending authorization request:
 *   GET  /api/v1/interactions/:id          what to show
 *   POST /api/v1/interactions/:id/login    username + password
 *   POST /api/v1/interactions/:id/mfa      TOTP or recovery code
 *   POST /api/v1/interactions/:id/continue after enrolling a second factor
 *   POST /api/v1/interactions/:id/consent  approve or deny
 *   POST /api/v1/interactions/:id/abort    the user gives up
 * Each POST answers with the next screen or the URL that resumes the authorization.
 */
export function interactionRouter(ctx: AppContext, loginLimit: RequestHandler): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });
  router.use('/api/v1/interactions', requireSameOrigin(new URL(ctx.config.issuer).origin));

  async function load(req: Request): Promise<Interaction> {
    const interaction = await loadInteraction(ctx, req, String(req.params.id));
    if (!interaction) {
      throw new ApiError('interaction_expired', 404, 'This sign-in request has expired. Go back to the application and start again.');
    }
    return interaction;
  }

  /** The stored request, validated again: the client may have changed since it was made. */
  async function requestOf(interaction: Interaction) {
    try {
      return validateRequest(interaction.params, await trustTarget(ctx, interaction.params));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      throw new ApiError(
        'interaction_expired',
        404,
        'This sign-in request is no longer valid. Go back to the application and start again.',
      );
    }
  }

  /**
   * Where the request stands now; an OAuth error means the client gets an error redirect. A
   * denial by the access policy is audited once, when the request first reaches it.
   */
  async function next(req: Request, interaction: Interaction): Promise<InteractionNext> {
    const request = await requestOf(interaction);
    try {
      const decision = await decide(ctx, request, await ctx.sessions.current(req), interaction);
      if (decision.next === 'denied' && interaction.prompt !== 'denied') {
        await recordPolicyDenial(ctx, decision.session.userId, interaction.clientId, req.ip ?? null);
      }
      if (decision.next === 'consent' || decision.next === 'mfa' || decision.next === 'enrol' || decision.next === 'denied') {
        await ctx.storage.interactions.update(interaction.id, { prompt: decision.next });
        return { next: decision.next };
      }
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
    }
    return { next: 'redirect', location: resumeUrl(ctx, interaction.id) };
  }

  /**
   * The screen to show now. A second-factor screen is right only while a challenge is pending
   * or a step-up is due; a voided or expired challenge means the password again.
   */
  async function currentPrompt(req: Request, interaction: Interaction): Promise<InteractionView['prompt']> {
    if (await pendingChallenge(ctx, req, interaction.id)) return 'mfa';
    if (interaction.prompt !== 'mfa') return interaction.prompt;
    const decision = await decide(ctx, await requestOf(interaction), await ctx.sessions.current(req), interaction).catch(() => undefined);
    const step = decision?.next;
    return step === 'mfa' || step === 'enrol' || step === 'consent' || step === 'denied' ? step : 'login';
  }

  router.get('/api/v1/interactions/:id', async (req, res) => {
    const interaction = await load(req);
    const { client, scopes } = await requestOf(interaction);
    const session = await ctx.sessions.current(req);
    const user = session ? await ctx.identity.findUser(session.userId) : undefined;
    const view: InteractionView = {
      id: interaction.id,
      prompt: await currentPrompt(req, interaction),
      client: { id: client.id, name: client.name },
      scopes: scopes.map((scope) => ({ scope, description: describeScope(scope) })),
      loginHint: interaction.params.login_hint ?? null,
      user: user ? { username: user.username, name: user.name } : null,
      expiresAt: interaction.expiresAt,
    };
    res.set('Cache-Control', 'no-store').json(view);
  });

  router.post('/api/v1/interactions/:id/login', loginLimit, json, async (req, res) => {
    const interaction = await load(req);
    const body = parseBody(LoginRequest, req.body);
    const outcome = await passwordSignIn(ctx, req, res, body, { interactionId: interaction.id, clientId: interaction.clientId });
    if (outcome.kind === 'mfa_required') {
      await ctx.storage.interactions.update(interaction.id, { prompt: 'mfa' });
      res.set('Cache-Control', 'no-store').json({ next: 'mfa' } satisfies InteractionNext);
      return;
    }
    await ctx.storage.interactions.update(interaction.id, { sessionId: outcome.session.id });
    res.set('Cache-Control', 'no-store').json(await next(req, { ...interaction, sessionId: outcome.session.id }));
  });

  // The second factor: after the password (a pending challenge), or as a step-up for a
  // client that requires one when the session was made with a password alone.
  router.post('/api/v1/interactions/:id/mfa', loginLimit, json, async (req, res) => {
    const interaction = await load(req);
    const factor = parseBody(MfaRequest, req.body);
    const challenge = await pendingChallenge(ctx, req, interaction.id);
    let sessionId: string;
    if (challenge) {
      sessionId = (await completeChallenge(ctx, req, res, challenge, factor, interaction.clientId)).id;
    } else {
      const session = await ctx.sessions.current(req);
      const decision = session ? await decide(ctx, await requestOf(interaction), session, interaction).catch(() => undefined) : undefined;
      if (!session || decision?.next !== 'mfa') throw new ApiError('login_required', 409, 'Sign in with your password first.');
      await verifySecondFactor(ctx, req, res, session.userId, factor, interaction.clientId);
      sessionId = (await ctx.sessions.signIn(req, res, session.userId, [...new Set([...session.amr, 'otp'])], session.remember)).id;
    }
    await ctx.storage.interactions.update(interaction.id, { sessionId });
    res.set('Cache-Control', 'no-store').json(await next(req, { ...interaction, sessionId }));
  });

  // After enrolling a second factor (through /api/v1/me/mfa), the request goes on from here.
  router.post('/api/v1/interactions/:id/continue', async (req, res) => {
    const interaction = await load(req);
    res.set('Cache-Control', 'no-store').json(await next(req, interaction));
  });

  router.post('/api/v1/interactions/:id/consent', json, async (req, res) => {
    const interaction = await load(req);
    const { approve } = parseBody(ConsentDecision, req.body);
    const session = await ctx.sessions.current(req);
    const request = await requestOf(interaction);
    let decision;
    try {
      decision = await decide(ctx, request, session, interaction);
    } catch (err) {
      // Already decided (e.g. denied or aborted before): resuming answers the client.
      if (!(err instanceof OAuthError)) throw err;
      res.set('Cache-Control', 'no-store').json({ next: 'redirect', location: resumeUrl(ctx, interaction.id) } satisfies InteractionNext);
      return;
    }
    // Left out by the access policy since the consent screen was shown.
    if (decision.next === 'denied') {
      res.set('Cache-Control', 'no-store').json(await next(req, interaction));
      return;
    }
    if (!session || (decision.next !== 'consent' && decision.next !== 'issue')) {
      throw new ApiError('login_required', 409, 'Finish signing in before approving the application.');
    }
    const now = ctx.clock.now();
    if (approve) await ctx.storage.consents.grant(session.userId, interaction.clientId, request.scopes, now);
    await ctx.storage.interactions.update(interaction.id, { consent: approve ? 'approved' : 'denied' });
    await ctx.audit.record(
      {
        event: approve ? 'consent_grant' : 'consent_deny',
        userId: session.userId,
        clientId: interaction.clientId,
        ip: req.ip ?? null,
        detail: { scope: request.scopes.join(' ') },
      },
      now,
    );
    res.set('Cache-Control', 'no-store').json({ next: 'redirect', location: resumeUrl(ctx, interaction.id) } satisfies InteractionNext);
  });

  router.post('/api/v1/interactions/:id/abort', async (req, res) => {
    const interaction = await load(req);
    await ctx.storage.interactions.update(interaction.id, { consent: 'denied' });
    res.set('Cache-Control', 'no-store').json({ next: 'redirect', location: resumeUrl(ctx, interaction.id) } satisfies InteractionNext);
  });

  return router;
}
