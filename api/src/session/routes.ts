import express, { Router, type RequestHandler } from 'express';
import { LoginRequest, LogoutRequest, MfaRequest, type LogoutResult, type SessionView, type SignInResult } from '@gatehouse/shared';
import { capabilitiesOf } from '../rest/capabilities.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';
import { parseBody } from '../http/validate.js';
import { postLogoutTarget } from '../oidc/end-session.js';
import { OAuthError } from '../oidc/errors.js';
import type { Session } from '../storage/sessions.js';
import { completeChallenge, passwordSignIn, pendingChallenge } from './sign-in.js';

/**
 *   GET  /api/v1/session          who is signed in on this browser
 *   POST /api/v1/session          sign in to Gatehouse itself (the portal), without an application
 *   POST /api/v1/session/mfa      its second step, when the user has a second factor
 *   POST /api/v1/session/logout   sign out: ends the session and its session-bound grants; answers
 *                                 where to go (an application's registered post-logout URI)
 */
export function sessionRouter(ctx: AppContext, loginLimit: RequestHandler): Router {
  const router = Router();
  router.use('/api/v1/session', requireSameOrigin(new URL(ctx.config.issuer).origin));

  async function view(session: Session | undefined): Promise<SessionView> {
    const user = session && (await ctx.identity.findUser(session.userId));
    if (!session || !user) throw ApiError.unauthenticated('Nobody is signed in on this browser.');
    return {
      user: { id: user.id, username: user.username, name: user.name, email: user.email, isAdmin: user.isAdmin },
      authTime: session.authTime,
      expiresAt: session.expiresAt,
      capabilities: capabilitiesOf(ctx),
    };
  }

  router.get('/api/v1/session', async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await view(await ctx.sessions.current(req)));
  });

  router.post('/api/v1/session', loginLimit, express.json({ limit: '16kb' }), async (req, res) => {
    const outcome = await passwordSignIn(ctx, req, res, parseBody(LoginRequest, req.body), { interactionId: null, clientId: null });
    const result: SignInResult =
      outcome.kind === 'mfa_required' ? { status: 'mfa_required' } : { status: 'signed_in', session: await view(outcome.session) };
    res.set('Cache-Control', 'no-store').json(result);
  });

  router.post('/api/v1/session/mfa', loginLimit, express.json({ limit: '16kb' }), async (req, res) => {
    const factor = parseBody(MfaRequest, req.body);
    const challenge = await pendingChallenge(ctx, req, null);
    if (!challenge) throw new ApiError('login_required', 409, 'Sign in with your password first.');
    const session = await completeChallenge(ctx, req, res, challenge, factor, null);
    res.set('Cache-Control', 'no-store').json({ status: 'signed_in', session: await view(session) } satisfies SignInResult);
  });

  router.post('/api/v1/session/logout', express.json({ limit: '16kb' }), async (req, res) => {
    const body = parseBody(LogoutRequest, req.body);
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
    res.set('Cache-Control', 'no-store').json({ location } satisfies LogoutResult);
  });

  return router;
}
