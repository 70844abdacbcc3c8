import type { RequestHandler } from 'express';
import { ConfirmTotpRequest, MfaStatus, ReauthenticateRequest, RecoveryCodes, StartTotpRequest, TotpEnrolment } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireBrowserSession, requireFreshSession } from './require-fresh-session.js';
import type { RestRoutes } from './route.js';

/**
 * The caller's second factors:
 *   GET  /api/v1/me/mfa                  status
 *   POST /api/v1/me/mfa/totp             start enrolment: a new secret, QR code and manual key
 *   POST /api/v1/me/mfa/totp/confirm     finish it with a correct code; answers recovery codes once
 *   POST /api/v1/me/mfa/totp/disable     password + current code
 *   POST /api/v1/me/mfa/recovery-codes   new recovery codes; password + current code
 * Every change is rate limited like sign-in, since each checks a code or a password. Every change
 * needs the browser session: a bearer token, even with profile:write, gets 403 `session_required`.
 * All but confirming also need a recent sign-in (requireFreshSession): a session that signed in
 * longer ago than `ttl.reauthWindow` gets 403 `reauthentication_required` unless the body carries
 * the password (starting takes an optional `password`; turning off and new codes always take
 * password and code). Confirming needs none: only the browser that started has the secret.
 */
export function meMfaRoutes(ctx: AppContext, routes: RestRoutes, attemptLimit: RequestHandler): void {
  async function requireTotp(userId: string): Promise<void> {
    if (!(await ctx.identity.mfa.status(userId)).totp.enabled)
      throw new ApiError('mfa_not_enrolled', 409, 'Two-factor authentication is not on.');
  }
  const alreadyEnrolled = () =>
    new ApiError('mfa_already_enrolled', 409, 'Two-factor authentication is already on. Turn it off first to set up a new app.');
  async function requireNoTotp(userId: string): Promise<void> {
    if ((await ctx.identity.mfa.status(userId)).totp.enabled) throw alreadyEnrolled();
  }

  routes.add(
    { method: 'get', path: '/api/v1/me/mfa', summary: 'Your two-factor status', scope: 'profile:read', response: MfaStatus },
    ({ principal }) => ctx.identity.mfa.status(principal.user.id),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/mfa/totp',
      summary: 'Start setting up an authenticator app',
      scope: 'profile:write',
      body: StartTotpRequest,
      response: TotpEnrolment,
    },
    async (c) => {
      const { user } = c.principal;
      await requireFreshSession(ctx, c, 'totp_enrol', { password: c.body.password, precondition: () => requireNoTotp(user.id) });
      const enrolment = await ctx.identity.mfa.startTotpEnrolment(user.id, user.email ?? user.username);
      if (!enrolment) throw alreadyEnrolled();
      return enrolment;
    },
    [attemptLimit],
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/mfa/totp/confirm',
      summary: 'Finish setting up the app with a code',
      scope: 'profile:write',
      body: ConfirmTotpRequest,
      response: RecoveryCodes,
    },
    async ({ req, res, principal, body }) => {
      const { user } = principal;
      // No password again, even when setting up the app took longer than the window: starting
      // needed a recent sign-in, and the secret went only to the browser that started.
      const session = await requireBrowserSession(ctx, { req, res, principal }, 'totp_confirm');
      const recoveryCodes = await ctx.identity.mfa.confirmTotpEnrolment(user.id, body.code);
      if (!recoveryCodes) {
        await ctx.audit.record(
          { event: 'mfa_failure', userId: user.id, ip: req.ip ?? null, detail: { reason: 'enrolment_code' } },
          ctx.clock.now(),
        );
        throw new ApiError('mfa_failed', 400, 'That code does not match. Check the time on your phone and enter the current code.');
      }
      await ctx.audit.record({ event: 'totp_enable', userId: user.id, ip: req.ip ?? null }, ctx.clock.now());
      // Entering a correct code proves the second factor for this browser session too.
      if (!session.amr.includes('otp'))
        await ctx.sessions.signIn(req, res, user.id, [...session.amr, 'otp'], session.remember, undefined, session.idp);
      return { recoveryCodes };
    },
    [attemptLimit],
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/mfa/totp/disable',
      summary: 'Turn two-factor authentication off',
      scope: 'profile:write',
      body: ReauthenticateRequest,
    },
    async (c) => {
      const { password, code } = c.body;
      await requireFreshSession(ctx, c, 'totp_disable', { password, code, precondition: () => requireTotp(c.principal.user.id) });
      await ctx.identity.mfa.disableTotp(c.principal.user.id);
      await ctx.audit.record(
        { event: 'totp_disable', userId: c.principal.user.id, ip: c.req.ip ?? null, detail: { by: 'user' } },
        ctx.clock.now(),
      );
    },
    [attemptLimit],
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/mfa/recovery-codes',
      summary: 'Replace your recovery codes',
      scope: 'profile:write',
      body: ReauthenticateRequest,
      response: RecoveryCodes,
    },
    async (c) => {
      const { password, code } = c.body;
      await requireFreshSession(ctx, c, 'recovery_codes', { password, code, precondition: () => requireTotp(c.principal.user.id) });
      const recoveryCodes = await ctx.identity.mfa.regenerateRecoveryCodes(c.principal.user.id);
      await ctx.audit.record({ event: 'recovery_codes_regenerated', userId: c.principal.user.id, ip: c.req.ip ?? null }, ctx.clock.now());
      return { recoveryCodes };
    },
    [attemptLimit],
  );
}
