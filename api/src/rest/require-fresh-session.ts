import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { reauthenticate } from '../session/sign-in.js';
import type { Principal } from './principal.js';

/** The changes to a second factor that need a browser and a recent sign-in. */
export type SecondFactorChange = 'totp_enrol' | 'totp_confirm' | 'totp_disable' | 'recovery_codes';

export interface FreshSessionOptions {
  /** The current password, from the request body. */
  password?: string | undefined;
  /** A current code, needed with the password when the user has a second factor. */
  code?: string | undefined;
  /** A check of the change itself, after the browser check and before the password is checked. */
  precondition?: () => Promise<void>;
}

/**
 * "Sudo mode" for changing a second factor: whoever holds a token must not be able to lock
 * the owner out, nor someone at a browser left signed in.
 * - Only a browser session may: a personal API token or an access token is refused with 403
 *   `session_required`, whatever its scopes.
 * - With the password in the body (and a current code when a second factor is on), it is
 *   checked (reauthenticate(): 401 `invalid_credentials` or `mfa_failed`) and the session counts
 *   as signed in now, so the next step of the same change needs no password again.
 * - Without it, the session must have signed in less than `ttl.reauthWindow` seconds ago (as
 *   right after signing in to enrol for an application); else 403 `reauthentication_required`.
 * Both refusals are audited as `mfa_change_refused` with the way the caller came and the action.
 */
export async function requireFreshSession(
  ctx: AppContext,
  call: { req: Request; res: Response; principal: Principal },
  action: SecondFactorChange,
  options: FreshSessionOptions = {},
): Promise<void> {
  const { req, res, principal } = call;
  const refuse = async (code: 'session_required' | 'reauthentication_required', message: string): Promise<never> => {
    await ctx.audit.record(
      {
        event: 'mfa_change_refused',
        outcome: 'failure',
        userId: principal.user.id,
        ip: req.ip ?? null,
        detail: { via: principal.via, action },
      },
      ctx.clock.now(),
    );
    throw new ApiError(code, 403, message);
  };

  if (principal.via !== 'session') {
    return refuse('session_required', 'Two-factor authentication can only be changed in the browser, signed in with your password.');
  }
  const session = await ctx.sessions.current(req);
  if (!session) throw ApiError.unauthenticated();
  await options.precondition?.();
  if (options.password !== undefined) {
    const credential = await reauthenticate(ctx, req, res, principal.user, options.password, options.code, action, true);
    await ctx.sessions.signIn(req, res, session.userId, session.amr, session.remember, credential);
    return;
  }
  if (ctx.clock.now() - session.authTime < ctx.config.ttl.reauthWindow) return;
  return refuse('reauthentication_required', 'Enter your password again to change two-factor authentication.');
}
