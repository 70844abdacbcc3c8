import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { safeEqual, sha256 } from '../lib/hash.js';
import type { Interaction } from '../storage/interactions.js';

const ONE_YEAR = 365 * 24 * 3600;

/**
 * Pending authorization requests are bound to the browser that started them by a random
 * cookie, so a link to someone else's sign-in request is useless in another browser.
 */
export function browserBinding(ctx: AppContext, req: Request, res: Response): string {
  let value = ctx.cookies.read(req, 'browser');
  if (!value) {
    value = ctx.random.token(32);
    ctx.cookies.write(res, 'browser', value, ONE_YEAR);
  }
  return sha256(value);
}

/** The interaction if it exists, has not expired and belongs to this browser. */
export async function loadInteraction(ctx: AppContext, req: Request, id: string): Promise<Interaction | undefined> {
  const interaction = await ctx.storage.interactions.find(id);
  const browser = ctx.cookies.read(req, 'browser');
  if (!interaction || !browser || interaction.expiresAt <= ctx.clock.now()) return undefined;
  return safeEqual(sha256(browser), interaction.browserHash) ? interaction : undefined;
}

export function screenUrl(ctx: AppContext, prompt: Interaction['prompt'], id: string): string {
  return `${ctx.config.issuer}/${prompt}?interaction=${encodeURIComponent(id)}`;
}

export function resumeUrl(ctx: AppContext, id: string): string {
  return `${ctx.config.issuer}/oauth2/authorize/${encodeURIComponent(id)}`;
}
