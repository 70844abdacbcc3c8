import { heldScopes } from '@gatehouse/shared';
import type { AppContext } from '../../context.js';
import type { Interaction } from '../../storage/interactions.js';
import type { Session } from '../../storage/sessions.js';
import { NotAllowed, allowsUser } from '../access-policy.js';
import { AccessDenied, ConsentRequired, LoginRequired, OAuthError } from '../errors.js';
import type { AuthorizeRequest } from './request.js';

/** Once someone is signed in: their session, and the requested scopes they hold. */
type SignedIn = { session: Session; scopes: string[] };

export type Decision = { forceLogin: boolean } & (
  { next: 'login' } | ({ next: 'mfa' | 'enrol' | 'consent' | 'denied' } & SignedIn) | ({ next: 'issue' } & SignedIn)
);

/**
 * What an authorization request needs before a code can be issued:
 * - a login when there is no session, or login is forced (prompt=login, select_account,
 *   max_age exceeded) and has not happened yet in this interaction
 * - a user the client's allowed groups leave out is denied: the screen that says so, then
 *   access_denied (RFC 6749 §4.1.2.1)
 * - a second factor when the client, one of the user's groups or the upstream the user signed in
 *   with (`require_mfa`) requires one, and the session was made without one: the TOTP challenge, or enrolment for a user who has none yet
 * - consent for an `explicit` client when prompt=consent or a scope was never approved
 * - with prompt=none, each need is an error instead (OIDC Core §3.1.2.6)
 */
export async function decide(
  ctx: AppContext,
  request: AuthorizeRequest,
  session: Session | undefined,
  interaction?: Interaction,
): Promise<Decision> {
  const user = session && (await ctx.identity.findUser(session.userId));
  const active = user ? session : undefined;
  const forceLogin = interaction
    ? interaction.forceLogin
    : request.prompts.has('login') ||
      request.prompts.has('select_account') ||
      // max_age=0 is equivalent to prompt=login (OIDC Core §3.1.2.1), even within the same second.
      (active !== undefined &&
        request.maxAge !== undefined &&
        (request.maxAge === 0 || ctx.clock.now() - active.authTime > request.maxAge));
  const loggedInHere = interaction?.sessionId != null && interaction.sessionId === active?.id;

  // An abort on the login screen is a denial too; it must not send the user back to sign in.
  if (interaction?.consent === 'denied') {
    // Leaving the "not allowed" screen ends the request as that denial, already audited.
    if (interaction.prompt === 'denied' && user) throw new NotAllowed(user.id, true);
    throw new AccessDenied('The user denied the request.');
  }
  if (!active || !user || (forceLogin && !loggedInHere)) {
    if (request.prompts.has('none')) throw new LoginRequired('The user is not signed in.');
    return { next: 'login', forceLogin };
  }

  const signedIn = { session: active, scopes: heldScopes(request.scopes, user.isAdmin), forceLogin };
  if (!allowsUser(request.client, user)) {
    if (request.prompts.has('none')) throw new NotAllowed(user.id, false);
    return { next: 'denied', ...signedIn };
  }

  const mfaRequired = request.client.requireMfa || user.requireMfa || ctx.upstreams.requiresMfa(active.idp);
  if (mfaRequired && !active.amr.includes('otp')) {
    if (request.prompts.has('none')) throw new OAuthError('interaction_required', 'A second factor is required.');
    if (!ctx.identity.capabilities.checkCodeAlone) {
      // A backend that checks codes only within a login it decides on (OpenBao's login MFA) steps
      // up by signing in again; a sign-in here that still asked for no code cannot be stepped up.
      if (loggedInHere) throw new AccessDenied('This application requires a second factor, and the sign-in did not ask for one.');
      return { next: 'login', forceLogin };
    }
    const { totp } = await ctx.identity.mfa.status(active.userId);
    return { next: totp.enabled ? 'mfa' : 'enrol', ...signedIn };
  }

  let needsConsent = false;
  if (request.client.consent === 'explicit' && !(interaction?.consent === 'approved' && interaction.sessionId === active.id)) {
    const approved = new Set(await ctx.storage.consents.scopes(active.userId, request.client.id));
    needsConsent = request.prompts.has('consent') || signedIn.scopes.some((s) => !approved.has(s));
  }
  if (needsConsent) {
    if (request.prompts.has('none')) throw new ConsentRequired('The user has not approved this application.');
    return { next: 'consent', ...signedIn };
  }
  return { next: 'issue', ...signedIn };
}
