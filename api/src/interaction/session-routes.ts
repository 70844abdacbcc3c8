import type { RequestHandler } from 'express';
import { Capabilities, LoginRequest, LogoutRequest, LogoutResult, MfaRequest, SessionView, SignInResult } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { capabilitiesOf } from '../identity/capabilities.js';
import { postLogoutTarget } from '../oidc/end-session.js';
import { OAuthError } from '../oidc/errors.js';
import type { RestRoutes } from '../rest/route.js';
import { completeChallenge, passwordSignIn, pendingChallenge } from '../session/sign-in.js';
import type { Session } from '../storage/sessions.js';

/**
 *   GET  /api/v1/session          who is signed in on this browser
 *   POST /api/v1/session          sign in to Gatehouse itself (the portal), without an application
 *   POST /api/v1/session/mfa      its second step, when the user has a second factor
 *   POST /api/v1/session/logout   sign out: ends the session and its session-bound grants; answers
 *                                 where to go (an application's registered post-logout URI)
 *   GET  /api/v1/capabilities     what this Gatehouse offers, for screens shown before sign-in
 */
export function sessionRoutes(ctx: AppContext, routes: RestRoutes, loginLimit: RequestHandler): void {
  const capabilities = capabilitiesOf(ctx);

  async function view(session: Session | undefined): Promise<SessionView> {
    const user = session && (await ctx.identity.findUser(session.userId));
    if (!session || !user) throw ApiError.unauthenticated('Nobody is signed in on this browser.');
    return {
      user: { id: user.id, username: user.username, name: user.name, email: user.email, isAdmin: user.isAdmin },
      authTime: session.authTime,
      expiresAt: session.expiresAt,
      capabilities,
    };
  }

  routes.addPublic(
    { method: 'get', path: '/api/v1/capabilities', summary: 'What this Gatehouse offers', scope: 'public', response: Capabilities },
    async () => capabilities,
    [],
  );

  routes.addBrowser(
    { method: 'get', path: '/api/v1/session', summary: 'Who is signed in on this browser', scope: 'browser', response: SessionView },
    async ({ req }) => view(await ctx.sessions.current(req)),
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/session',
      summary: 'Sign in to Gatehouse itself',
      scope: 'browser',
      body: LoginRequest,
      response: SignInResult,
    },
    async ({ req, res, body }) => {
      const outcome = await passwordSignIn(ctx, req, res, body, { interactionId: null, clientId: null });
      const result: SignInResult =
        outcome.kind === 'mfa_required' ? { status: 'mfa_required' } : { status: 'signed_in', session: await view(outcome.session) };
      return result;
    },
    [loginLimit],
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/session/mfa',
      summary: 'The second step of signing in to Gatehouse',
      scope: 'browser',
      body: MfaRequest,
      response: SignInResult,
    },
    async ({ req, res, body: factor }) => {
      const challenge = await pendingChallenge(ctx, req, null);
      if (!challenge) throw new ApiError('login_required', 409, 'Sign in with your password first.');
      const session = await completeChallenge(ctx, req, res, challenge, factor, null);
      return { status: 'signed_in', session: await view(session) } satisfies SignInResult;
    },
    [loginLimit],
  );

  routes.addBrowser(
    {
      method: 'post',
      path: '/api/v1/session/logout',
      summary: 'Sign out this browser',
      scope: 'browser',
      body: LogoutRequest,
      response: LogoutResult,
    },
    async ({ req, res, body }) => {
      let location: string;
      try {
        location = await postLogoutTarget(ctx, body.clientId, body.postLogoutRedirectUri, body.state);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        throw ApiError.validation([{ field: 'postLogoutRedirectUri', message: err.description }], err.description);
      }
      const session = await ctx.sessions.signOut(req, res);
      if (session) {
        await ctx.audit.record(
          { event: 'logout', userId: session.userId, clientId: body.clientId ?? null, ip: req.ip ?? null },
          ctx.clock.now(),
        );
      }
      return { location };
    },
  );
}
