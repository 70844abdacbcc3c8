import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { ConfirmTotpRequest, ReauthenticateRequest, type MfaStatus, type RecoveryCodes, type TotpEnrolment } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';
import { parseBody } from '../http/validate.js';
import { verifySecondFactor } from '../session/sign-in.js';
import { requireSession } from './require-session.js';

/**
 * The signed-in user's second factors:
 *   GET  /api/v1/me/mfa                  status
 *   POST /api/v1/me/mfa/totp             start enrolment: a new secret, QR code and manual key
 *   POST /api/v1/me/mfa/totp/confirm     finish it with a correct code; answers recovery codes once
 *   POST /api/v1/me/mfa/totp/disable     password + current code
 *   POST /api/v1/me/mfa/recovery-codes   new recovery codes; password + current code
 */
export function meMfaRouter(ctx: AppContext, attemptLimit: RequestHandler): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });
  router.use('/api/v1/me/mfa', requireSameOrigin(new URL(ctx.config.issuer).origin));
  const send = (res: Response, body: unknown) => res.set('Cache-Control', 'no-store').json(body);

  /** Password and a current code, for the operations that weaken or reset the second factor. */
  async function reauthenticate(req: Request, res: Response, userId: string, username: string): Promise<void> {
    const body = parseBody(ReauthenticateRequest, req.body);
    const check = await ctx.identity.authenticate(username, body.password);
    if (!check.ok || check.userId !== userId) throw new ApiError('invalid_credentials', 401, 'The password is not correct.');
    await verifySecondFactor(ctx, req, res, userId, { code: body.code }, null);
  }

  router.get('/api/v1/me/mfa', async (req, res) => {
    const { user } = await requireSession(ctx, req);
    send(res, (await ctx.identity.mfa.status(user.id)) satisfies MfaStatus);
  });

  router.post('/api/v1/me/mfa/totp', attemptLimit, async (req, res) => {
    const { user } = await requireSession(ctx, req);
    const enrolment = await ctx.identity.mfa.startTotpEnrolment(user.id, user.email ?? user.username);
    if (!enrolment)
      throw new ApiError('mfa_already_enrolled', 409, 'Two-factor authentication is already on. Turn it off first to set up a new app.');
    send(res, enrolment satisfies TotpEnrolment);
  });

  router.post('/api/v1/me/mfa/totp/confirm', attemptLimit, json, async (req, res) => {
    const { session, user } = await requireSession(ctx, req);
    const { code } = parseBody(ConfirmTotpRequest, req.body);
    const recoveryCodes = await ctx.identity.mfa.confirmTotpEnrolment(user.id, code);
    if (!recoveryCodes) {
      await ctx.audit.record(
        { event: 'mfa_failure', userId: user.id, ip: req.ip ?? null, detail: { reason: 'enrolment_code' } },
        ctx.clock.now(),
      );
      throw new ApiError('mfa_failed', 400, 'That code does not match. Check the time on your phone and enter the current code.');
    }
    await ctx.audit.record({ event: 'totp_enable', userId: user.id, ip: req.ip ?? null }, ctx.clock.now());
    // Entering a correct code proves the second factor for this session too.
    if (!session.amr.includes('otp')) await ctx.sessions.signIn(req, res, user.id, [...session.amr, 'otp'], session.remember);
    send(res, { recoveryCodes } satisfies RecoveryCodes);
  });

  router.post('/api/v1/me/mfa/totp/disable', attemptLimit, json, async (req, res) => {
    const { user } = await requireSession(ctx, req);
    if (!(await ctx.identity.mfa.status(user.id)).totp.enabled)
      throw new ApiError('mfa_not_enrolled', 409, 'Two-factor authentication is not on.');
    await reauthenticate(req, res, user.id, user.username);
    await ctx.identity.mfa.disableTotp(user.id);
    await ctx.audit.record({ event: 'totp_disable', userId: user.id, ip: req.ip ?? null, detail: { by: 'user' } }, ctx.clock.now());
    res.status(204).end();
  });

  router.post('/api/v1/me/mfa/recovery-codes', attemptLimit, json, async (req, res) => {
    const { user } = await requireSession(ctx, req);
    if (!(await ctx.identity.mfa.status(user.id)).totp.enabled)
      throw new ApiError('mfa_not_enrolled', 409, 'Two-factor authentication is not on.');
    await reauthenticate(req, res, user.id, user.username);
    const recoveryCodes = await ctx.identity.mfa.regenerateRecoveryCodes(user.id);
    await ctx.audit.record({ event: 'recovery_codes_regenerated', userId: user.id, ip: req.ip ?? null }, ctx.clock.now());
    send(res, { recoveryCodes } satisfies RecoveryCodes);
  });

  return router;
}
