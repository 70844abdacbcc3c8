import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { reauthenticate } from '../session/sign-in.js';
import type { Session } from '../storage/sessions.js';
import type { Principal } from './principal.js';

/** The changes to a second factor; each needs a browser session. `totp_reset` is an admin's, of someone else's. */
export type SecondFactorChange = 'totp_enrol' | 'totp_confirm' | 'totp_disable' | 'recovery_codes' | 'totp_reset';

/**
 * The changes to one's own second factor or linked sign-ins that also need a recent sign-in. Confirming an
 * enrolment is not one: the new secret went only to the browser that started it, and starting
 * took the recent sign-in.
 */
export type SudoChange = Exclude<SecondFactorChange, 'totp_confirm' | 'totp_reset'> | UpstreamChange;

/** Linking one's account to an upstream identity provider, or removing such a link. */
export type UpstreamChange = 'upstream_link' | 'upstream_unlink';

type Change = SecondFactorChange | UpstreamChange;

const isUpstreamChange = (action: Change): action is UpstreamChange => action === 'upstream_link' || action === 'upstream_unlink';

/** What a refusal says, by the kind of change. */
const REFUSALS = {
  mfa: {
    session_required: 'Two-factor authentication can only be changed in the browser, signed in with your password.',
    reauthentication_required: 'Enter your password again to change two-factor authentication.',
  },
  upstream: {
    session_required: 'Linked sign-ins can only be changed in the browser, signed in.',
    reauthentication_required: 'Confirm it is you to change your linked sign-ins: enter your password again, or sign in again.',
  },
} as const;

export interface FreshSessionOptions {
  /** The current password, from the request body. */
  password?: string | undefined;
  /** A current code, needed with the password when the user has a second factor. */
  code?: string | undefined;
  /** A check of the change itself, after the browser check and before the password is checked. */
  precondition?: () => Promise<void>;
  /** Facts a refusal is audited with, e.g. the upstream of an upstream change. */
  detail?: Record<string, string>;
}

type Call = { req: Request; res: Response; principal: Principal };

/**
 * Audits a refused change, with the way the caller came and the action: a second factor's as
 * `mfa_change_refused`, an upstream link's as `upstream_failure` (with the code as its reason).
 */
async function refuse(
  ctx: AppContext,
  { req, principal }: Call,
  action: Change,
  code: 'session_required' | 'reauthentication_required',
  detail: Record<string, string> = {},
): Promise<never> {
  const upstream = isUpstreamChange(action);
  await ctx.audit.record(
    {
      event: upstream ? 'upstream_failure' : 'mfa_change_refused',
      outcome: 'failure',
      userId: principal.user.id,
      ip: req.ip ?? null,
      detail: { ...detail, via: principal.via, action, ...(upstream && { reason: code }) },
    },
    ctx.clock.now(),
  );
  throw new ApiError(code, 403, REFUSALS[upstream ? 'upstream' : 'mfa'][code]);
}

/**
 * Only a browser session may change a second factor or a linked sign-in, so that whoever holds
 * a token cannot lock the owner out (or link an identity of their own): a personal API token or
 * an access token is refused with 403 `session_required` (audited), whatever its scopes.
 * Answers the session.
 */
export async function requireBrowserSession(
  ctx: AppContext,
  call: Call,
  action: Change,
  detail?: Record<string, string>,
): Promise<Session> {
  const { principal } = call;
  if (principal.via !== 'session') return refuse(ctx, call, action, 'session_required', detail);
  return principal.session;
}

/**
 * "Sudo mode" for changing a second factor or a linked sign-in: a browser session (requireBrowserSession) that
 * shows it is not just someone at a browser left signed in.
 * - With the password in the body (and a current code when a second factor is on), it is
 *   checked (reauthenticate(): 401 `invalid_credentials` or `mfa_failed`) and the session counts
 *   as signed in now.
 * - Without it, the session must have signed in less than `ttl.reauthWindow` seconds ago (as
 *   right after signing in to enrol for an application); else 403 `reauthentication_required`,
 *   audited like `session_required`.
 */
export async function requireFreshSession(
  ctx: AppContext,
  call: Call,
  action: SudoChange,
  options: FreshSessionOptions = {},
): Promise<void> {
  const session = await requireBrowserSession(ctx, call, action, options.detail);
  await options.precondition?.();
  if (options.password !== undefined) {
    const { req, res, principal } = call;
    const credential = await reauthenticate(ctx, req, res, principal.user, options.password, options.code, action, true);
    await ctx.sessions.signIn(req, res, session.userId, session.amr, session.remember, credential, session.idp);
    return;
  }
  if (ctx.clock.now() - session.authTime < ctx.config.ttl.reauthWindow) return;
  return refuse(ctx, call, action, 'reauthentication_required', options.detail);
}
