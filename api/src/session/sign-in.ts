import type { Request, Response } from 'express';
import type { LoginRequest } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { Session } from '../storage/sessions.js';

/**
 * Password sign-in, shared by the authorization flow and the portal: one generic failure for
 * unknown users, wrong passwords and disabled accounts; the precise reason goes to the audit trail.
 */
export async function passwordSignIn(
  ctx: AppContext,
  req: Request,
  res: Response,
  body: Required<LoginRequest>,
  clientId: string | null,
): Promise<Session> {
  const now = ctx.clock.now();
  const ip = req.ip ?? null;
  const result = await ctx.identity.authenticate(body.username, body.password);
  if (!result.ok) {
    await ctx.audit.record(
      { event: 'login_failure', userId: result.userId ?? null, clientId, ip, detail: { reason: result.reason, login: body.username } },
      now,
    );
    throw new ApiError('invalid_credentials', 401, 'The username or password is not correct.');
  }
  const session = await ctx.sessions.signIn(req, res, result.userId, ['pwd'], body.remember);
  await ctx.audit.record({ event: 'login_success', userId: result.userId, clientId, ip }, now);
  return session;
}
