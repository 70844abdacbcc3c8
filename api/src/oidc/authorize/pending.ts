import type { Request, Response } from 'express';
import type { InteractionNext, InteractionPrompt } from '@gatehouse/shared';
import type { AppContext } from '../../context.js';
import { safeEqual } from '../../lib/hash.js';
import { browserBinding, browserHashOf } from '../../session/browser.js';
import type { Interaction } from '../../storage/interactions.js';
import type { Session } from '../../storage/sessions.js';
import { NotAllowed, recordPolicyDenial } from '../access-policy.js';
import { InvalidRequest, OAuthError } from '../errors.js';
import { decide, type Decision } from './decide.js';
import type { AuthorizeRequest, TrustedTarget } from './request.js';
import { issueCode } from './respond.js';
import { trustTarget, validateRequest } from './validate.js';

/**
 * The one owner of a pending authorization request (an interaction): it loads it, decides what
 * it needs next, records a policy denial once, moves it to its next screen, and finishes it with
 * a code. The HTTP steps — the authorization endpoint and the SPA's interaction endpoints —
 * record their own result (a sign-in, a consent, an abort) through it and hand over.
 */

/** The SPA screen for a step of the request. */
function screenUrl(ctx: AppContext, prompt: InteractionPrompt, id: string): string {
  return `${ctx.config.issuer}/${prompt}?interaction=${encodeURIComponent(id)}`;
}

/** Where the browser resumes the authorization once a screen is done. */
function resumeUrl(ctx: AppContext, id: string): string {
  return `${ctx.config.issuer}/oauth2/authorize/${encodeURIComponent(id)}`;
}

/** The URL the browser goes to for what a step answered: the next screen, or where it resumes. */
export function locationOf(ctx: AppContext, interaction: Interaction, next: InteractionNext): string {
  return next.next === 'redirect' ? next.location : screenUrl(ctx, next.next, interaction.id);
}

/** `idp_hint`: an upstream to sign in at straight away, instead of the sign-in screen. */
function hintedUpstream(ctx: AppContext, request: AuthorizeRequest): string | undefined {
  const hint = request.params.idp_hint;
  if (hint === undefined || !ctx.identity.capabilities.federation || !ctx.upstreams.get(hint)) return undefined;
  return `${ctx.config.issuer}/oauth2/upstream/${encodeURIComponent(hint)}/start`;
}

const resume = (ctx: AppContext, interaction: Interaction): InteractionNext => ({
  next: 'redirect',
  location: resumeUrl(ctx, interaction.id),
});

/** The interaction if it exists, has not expired and was started by this browser. */
export async function loadPending(ctx: AppContext, req: Request, id: string): Promise<Interaction | undefined> {
  const interaction = await ctx.storage.interactions.find(id);
  const browser = browserHashOf(ctx, req);
  if (!interaction || !browser || interaction.expiresAt <= ctx.clock.now()) return undefined;
  return safeEqual(browser, interaction.browserHash) ? interaction : undefined;
}

/** The stored request, validated again (the client may have changed); OAuthError when no longer valid. */
export async function requestOf(ctx: AppContext, interaction: Interaction): Promise<AuthorizeRequest> {
  return validateRequest(interaction.params, await trustTarget(ctx, interaction.params));
}

/** What the request needs now, for the browser's current session. */
async function decideNow(ctx: AppContext, req: Request, request: AuthorizeRequest, interaction?: Interaction): Promise<Decision> {
  return decide(ctx, request, await ctx.sessions.current(req), interaction);
}

/** Moves the interaction to the screen the decision names; a policy denial is audited on arrival. */
async function moveTo(
  ctx: AppContext,
  req: Request,
  interaction: Interaction,
  decision: Exclude<Decision, { next: 'issue' }>,
): Promise<void> {
  if (decision.next === 'denied' && interaction.prompt !== 'denied') {
    await recordPolicyDenial(ctx, decision.session.userId, interaction.clientId, req.ip ?? null);
  }
  if (decision.next !== interaction.prompt) await ctx.storage.interactions.update(interaction.id, { prompt: decision.next });
}

/**
 * A new authorization request (RFC 6749 §4.1.1): a code at once when nothing is needed from
 * the user, else a new interaction bound to this browser and the URL of its first screen.
 */
export async function begin(ctx: AppContext, req: Request, res: Response, request: AuthorizeRequest): Promise<string> {
  const decision = await decideNow(ctx, req, request);
  if (decision.next === 'issue') return issueCode(ctx, request, decision.session, decision.scopes);
  const now = ctx.clock.now();
  const interaction: Interaction = {
    id: ctx.random.token(16),
    browserHash: browserBinding(ctx, req, res),
    clientId: request.client.id,
    params: request.params,
    prompt: decision.next,
    forceLogin: decision.forceLogin,
    sessionId: null,
    consent: null,
    createdAt: now,
    expiresAt: now + ctx.config.ttl.interaction,
  };
  if (decision.next === 'denied') await recordPolicyDenial(ctx, decision.session.userId, request.client.id, req.ip ?? null);
  await ctx.storage.interactions.insert(interaction);
  const upstream = decision.next === 'login' ? hintedUpstream(ctx, request) : undefined;
  if (upstream) return `${upstream}?interaction=${encodeURIComponent(interaction.id)}`;
  return screenUrl(ctx, decision.next, interaction.id);
}

/**
 * The browser is back from a screen (`GET /oauth2/authorize/:id`): the code when the request
 * is complete (the interaction is used up, once), else the next screen. An OAuth error ends
 * the interaction; the caller answers the client with it.
 */
export async function complete(ctx: AppContext, req: Request, interaction: Interaction, target: TrustedTarget): Promise<string> {
  try {
    const request = validateRequest(interaction.params, target);
    const decision = await decideNow(ctx, req, request, interaction);
    if (decision.next !== 'issue') {
      await moveTo(ctx, req, interaction, decision);
      return screenUrl(ctx, decision.next, interaction.id);
    }
    if (!(await ctx.storage.interactions.delete(interaction.id))) throw new InvalidRequest('This sign-in request was already completed.');
    return await issueCode(ctx, request, decision.session, decision.scopes);
  } catch (err) {
    await ctx.storage.interactions.delete(interaction.id);
    throw err;
  }
}

/**
 * Where the request goes after a screen's step, for the SPA: its next screen, or the URL that
 * resumes the authorization (to be issued a code, or answered with an error).
 */
export async function advance(ctx: AppContext, req: Request, interaction: Interaction): Promise<InteractionNext> {
  try {
    const decision = await decideNow(ctx, req, await requestOf(ctx, interaction), interaction);
    if (decision.next === 'issue' || decision.next === 'login') return resume(ctx, interaction);
    await moveTo(ctx, req, interaction, decision);
    return { next: decision.next };
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    return resume(ctx, interaction);
  }
}

/** The decision now, or undefined when the request can only be answered with an error. */
async function decisionFor(ctx: AppContext, req: Request, interaction: Interaction): Promise<Decision | undefined> {
  try {
    return await decideNow(ctx, req, await requestOf(ctx, interaction), interaction);
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    return undefined;
  }
}

/**
 * The screen to show now. A second-factor screen is right only while a sign-in's second step
 * is pending or a step-up is due; otherwise the password again.
 */
export async function currentPrompt(
  ctx: AppContext,
  req: Request,
  interaction: Interaction,
  secondStepPending: boolean,
): Promise<InteractionPrompt> {
  if (secondStepPending) return 'mfa';
  if (interaction.prompt !== 'mfa') return interaction.prompt;
  const step = (await decisionFor(ctx, req, interaction))?.next;
  return step === 'mfa' || step === 'enrol' || step === 'consent' || step === 'denied' ? step : 'login';
}

/** A sign-in's password step passed and its second step is now due. */
export async function awaitSecondStep(ctx: AppContext, interaction: Interaction): Promise<InteractionNext> {
  await ctx.storage.interactions.update(interaction.id, { prompt: 'mfa' });
  return { next: 'mfa' };
}

/** The user signed in (or stepped up) during this request; it goes on from there. */
export async function signedIn(ctx: AppContext, req: Request, interaction: Interaction, session: Session): Promise<InteractionNext> {
  await ctx.storage.interactions.update(interaction.id, { sessionId: session.id });
  return advance(ctx, req, { ...interaction, sessionId: session.id });
}

/** The session a step-up second factor is for, when the request is waiting for one. */
export async function awaitingStepUp(ctx: AppContext, req: Request, interaction: Interaction): Promise<Session | undefined> {
  const decision = await decisionFor(ctx, req, interaction);
  return decision?.next === 'mfa' ? decision.session : undefined;
}

/**
 * The user's answer on the consent screen: an approval is remembered for the scopes the user
 * holds, a denial ends the request as access_denied when the browser resumes it.
 * Undefined when the request is not at a point where consent can be given.
 */
export async function recordConsent(
  ctx: AppContext,
  req: Request,
  interaction: Interaction,
  approve: boolean,
): Promise<InteractionNext | undefined> {
  let decision: Decision;
  try {
    decision = await decideNow(ctx, req, await requestOf(ctx, interaction), interaction);
  } catch (err) {
    // Already decided (e.g. denied or aborted before): resuming answers the client.
    if (!(err instanceof OAuthError)) throw err;
    return resume(ctx, interaction);
  }
  // Left out by the access policy since the consent screen was shown.
  if (decision.next === 'denied') return advance(ctx, req, interaction);
  if (decision.next !== 'consent' && decision.next !== 'issue') return undefined;
  const now = ctx.clock.now();
  const { session, scopes } = decision;
  if (approve) await ctx.storage.consents.grant(session.userId, interaction.clientId, scopes, now);
  // The approval is this session's: another user signing in on the browser meanwhile must approve for themselves.
  await ctx.storage.interactions.update(interaction.id, { consent: approve ? 'approved' : 'denied', sessionId: session.id });
  await ctx.audit.record(
    {
      event: approve ? 'consent_grant' : 'consent_deny',
      userId: session.userId,
      clientId: interaction.clientId,
      ip: req.ip ?? null,
      detail: { scope: scopes.join(' ') },
    },
    now,
  );
  return resume(ctx, interaction);
}

/** The user gave up: the request ends as access_denied when the browser resumes it. */
export async function abort(ctx: AppContext, interaction: Interaction): Promise<InteractionNext> {
  await ctx.storage.interactions.update(interaction.id, { consent: 'denied' });
  return resume(ctx, interaction);
}

/**
 * Audits an authorization request that ends in an error sent to the client: a policy denial
 * once (unless recorded when it was first decided), any other access_denied as such.
 */
export async function recordFailure(ctx: AppContext, req: Request, target: TrustedTarget, err: OAuthError): Promise<void> {
  if (err instanceof NotAllowed) {
    if (!err.recorded) await recordPolicyDenial(ctx, err.userId, target.client.id, req.ip ?? null);
  } else if (err.error === 'access_denied') {
    await ctx.audit.record(
      { event: 'authorize_denied', clientId: target.client.id, ip: req.ip ?? null, detail: { reason: err.description } },
      ctx.clock.now(),
    );
  }
}
