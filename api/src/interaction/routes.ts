import type { Request, RequestHandler } from 'express';
import { ConsentDecision, InteractionNext, InteractionView, LoginRequest, MfaRequest, describeScope, heldScopes } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import * as pending from '../oidc/authorize/pending.js';
import { OAuthError } from '../oidc/errors.js';
import type { RestRoutes } from '../rest/route.js';
import { completeChallenge, passwordSignIn, pendingChallenge, verifySecondFactor } from '../session/sign-in.js';
import type { Interaction } from '../storage/interactions.js';

const expired = (message: string) => new ApiError('interaction_expired', 404, message);

/**
 * JSON endpoints the SPA drives to complete a pending authorization request:
 *   GET  /api/v1/interactions/:id          what to show
 *   POST /api/v1/interactions/:id/login    username + password
 *   POST /api/v1/interactions/:id/mfa      TOTP or recovery code
 *   POST /api/v1/interactions/:id/continue after enrolling a second factor
 *   POST /api/v1/interactions/:id/consent  approve or deny
 *   POST /api/v1/interactions/:id/abort    the user gives up
 * Each step records its result with the pending request (oidc/authorize/pending.ts), which
 * answers with the next screen or the URL that resumes the authorization.
 */
export function interactionRoutes(ctx: AppContext, routes: RestRoutes, loginLimit: RequestHandler): void {
  async function load(req: Request): Promise<Interaction> {
    const interaction = await pending.loadPending(ctx, req, String(req.params.id));
    if (!interaction) throw expired('This sign-in request has expired. Go back to the application and start again.');
    return interaction;
  }

  routes.addBrowser(
    {
      method: 'get',
      path: '/api/v1/interactions/:id',
      summary: 'A pending sign-in request, for the screens',
      scope: 'browser',
      response: InteractionView,
    },
    async ({ req }) => {
      const interaction = await load(req);
      const request = await pending.requestOf(ctx, interaction).catch((err: unknown) => {
        if (!(err instanceof OAuthError)) throw err;
        throw expired('This sign-in request is no longer valid. Go back to the application and start again.');
      });
      const session = await ctx.sessions.current(req);
      const user = session ? await ctx.identity.findUser(session.userId) : undefined;
      return {
        id: interaction.id,
        prompt: await pending.currentPrompt(ctx, req, interaction, (await pendingChallenge(ctx, req, interaction.id)) !== undefined),
        client: { id: request.client.id, name: request.client.name },
        // Only what this user could be granted; before sign-in, what anyone could.
        scopes: heldScopes(request.scopes, user?.isAdmin ?? false).map((scope) => ({ scope, description: describeScope(scope) })),
        loginHint: interaction.params.login_hint ?? null,
        user: user ? { username: user.username, name: user.name } : null,
        expiresAt: interaction.expiresAt,
      };
    },
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/interactions/:id/login',
      summary: 'Sign in with username and password',
      scope: 'browser',
      body: LoginRequest,
      response: InteractionNext,
    },
    async ({ req, res, body }) => {
      const interaction = await load(req);
      const outcome = await passwordSignIn(ctx, req, res, body, { interactionId: interaction.id, clientId: interaction.clientId });
      if (outcome.kind === 'mfa_required') return pending.awaitSecondStep(ctx, interaction);
      return pending.signedIn(ctx, req, interaction, outcome.session);
    },
    [loginLimit],
  );

  // The second factor: after the password (a pending challenge), or as a step-up for a
  // client that requires one when the session was made with a password alone.
  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/interactions/:id/mfa',
      summary: 'The second step: a code or recovery code',
      scope: 'browser',
      body: MfaRequest,
      response: InteractionNext,
    },
    async ({ req, res, body: factor }) => {
      const interaction = await load(req);
      const challenge = await pendingChallenge(ctx, req, interaction.id);
      if (challenge)
        return pending.signedIn(ctx, req, interaction, await completeChallenge(ctx, req, res, challenge, factor, interaction.clientId));
      const session = await pending.awaitingStepUp(ctx, req, interaction);
      if (!session) throw new ApiError('login_required', 409, 'Sign in with your password first.');
      await verifySecondFactor(ctx, req, res, session.userId, factor, interaction.clientId);
      const amr = [...new Set([...session.amr, 'otp'])];
      const steppedUp = await ctx.sessions.signIn(req, res, session.userId, amr, session.remember, undefined, session.idp);
      return pending.signedIn(ctx, req, interaction, steppedUp);
    },
    [loginLimit],
  );

  // After enrolling a second factor (through /api/v1/me/mfa), the request goes on from here.
  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/interactions/:id/continue',
      summary: 'Go on after setting up two-factor',
      scope: 'browser',
      response: InteractionNext,
    },
    async ({ req }) => pending.advance(ctx, req, await load(req)),
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/interactions/:id/consent',
      summary: 'Approve or deny the application',
      scope: 'browser',
      body: ConsentDecision,
      response: InteractionNext,
    },
    async ({ req, body }) => {
      const next = await pending.recordConsent(ctx, req, await load(req), body.approve);
      if (!next) throw new ApiError('login_required', 409, 'Finish signing in before approving the application.');
      return next;
    },
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/interactions/:id/abort',
      summary: 'Give up the sign-in request',
      scope: 'browser',
      response: InteractionNext,
    },
    async ({ req }) => pending.abort(ctx, await load(req)),
  );
}
