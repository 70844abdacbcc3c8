import type { Request, Response } from 'express';
import { randomPKCECodeVerifier } from 'openid-client';
import type { AppContext } from '../context.js';
import { safeEqual, sha256 } from '../lib/hash.js';
import { browserBinding, browserHashOf } from '../session/browser.js';
import type { UpstreamState } from '../storage/upstreams.js';
import type { Upstream } from './registry.js';
import { UpstreamFailure, authorizationUrl, type FlowSecrets } from './relying-party.js';

/** How long a person has to sign in at the upstream. */
const STATE_TTL = 10 * 60;

/** What a sign-in at an upstream is for. */
export type UpstreamPurpose =
  { purpose: 'login'; interactionId: string | null; invitation?: string } | { purpose: 'link'; userId: string; interactionId?: undefined };

/** What the callback finds: the stored sign-in, and its secrets opened. */
export interface PendingUpstream {
  state: UpstreamState;
  secrets: FlowSecrets & { invitation?: string };
}

/**
 * Starts a sign-in at the upstream: a random `state`, nonce and PKCE verifier kept server-side
 * (only the state's SHA-256 as the key, the rest sealed), bound to this browser, single-use.
 * Answers the upstream's authorization URL for the browser.
 */
export async function startUpstream(
  ctx: AppContext,
  req: Request,
  res: Response,
  upstream: Upstream,
  what: UpstreamPurpose,
): Promise<string> {
  const config = await ctx.upstreams.parties.configuration(upstream);
  const now = ctx.clock.now();
  const state = ctx.random.token(32);
  const secrets: PendingUpstream['secrets'] = {
    codeVerifier: randomPKCECodeVerifier(),
    nonce: ctx.random.token(32),
    ...(what.purpose === 'login' && what.invitation !== undefined && { invitation: what.invitation }),
  };
  await ctx.storage.upstreams.insertState({
    stateHash: sha256(state),
    upstreamId: upstream.id,
    browserHash: browserBinding(ctx, req, res),
    purpose: what.purpose,
    interactionId: what.interactionId ?? null,
    userId: what.purpose === 'link' ? what.userId : null,
    secrets: ctx.box.seal(JSON.stringify(secrets)),
    createdAt: now,
    expiresAt: now + STATE_TTL,
  });
  return authorizationUrl(config, upstream, ctx.upstreams.callbackUrl(upstream.id), state, secrets);
}

/**
 * The sign-in a callback answers: its state used up (a replayed callback finds nothing), for
 * this upstream, started by this browser and not expired.
 */
export async function takeUpstream(ctx: AppContext, req: Request, upstreamId: string, state: string): Promise<PendingUpstream> {
  const found = await ctx.storage.upstreams.takeState(sha256(state), ctx.clock.now());
  const expired = new UpstreamFailure('unknown_state', 'This sign-in has expired or was already used. Start again.');
  if (!found) throw expired;
  const browser = browserHashOf(ctx, req);
  if (found.upstreamId !== upstreamId || !browser || !safeEqual(browser, found.browserHash)) {
    throw new UpstreamFailure('state_mismatch', 'This sign-in was started in another browser. Start again here.');
  }
  return { state: found, secrets: JSON.parse(ctx.box.open(found.secrets)) as PendingUpstream['secrets'] };
}
