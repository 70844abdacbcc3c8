import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { sha256 } from '../lib/hash.js';
import { loginName } from '../mfa/regulation.js';

/** How long a browser stays known after its last correct password. */
export const DEVICE_COOKIE_TTL = 90 * 24 * 3600;

/** A browser that entered this login name's correct password before. */
export interface KnownDevice {
  /** SHA-256 of its device cookie. */
  hash: string;
  userId: string;
}

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
 * that entered the right password for a login name gets a random cookie, stored only as its
 * SHA-256 and bound to that user and name. With it, the browser's attempts for that name are
 * throttled under a key of their own, so a guesser elsewhere slows down only itself, never
 * the owner. A cookie for another name, or an expired or revoked one, counts for nothing. Which
 * user a name belongs to is known only once the password is checked: then passwordSignIn revokes
 * a cookie whose user is not the one that name now belongs to (the name changed hands).
 */
export async function knownDevice(ctx: AppContext, req: Request, login: string): Promise<KnownDevice | undefined> {
  const value = ctx.cookies.read(req, 'device');
  if (!value) return undefined;
  const device = await ctx.storage.mfa.findDeviceCookie(sha256(value), ctx.clock.now());
  return device && device.login === loginName(login) ? { hash: device.hash, userId: device.userId } : undefined;
}

/**
 * After the right password: the browser stays known for the user for DEVICE_COOKIE_TTL more.
 * A browser without a cookie for them gets a new one; one for someone else is revoked.
 */
export async function rememberDevice(
  ctx: AppContext,
  req: Request,
  res: Response,
  known: KnownDevice | undefined,
  userId: string,
  login: string,
): Promise<void> {
  const now = ctx.clock.now();
  const expiresAt = now + DEVICE_COOKIE_TTL;
  if (known?.userId === userId) {
    await ctx.storage.mfa.extendDeviceCookie(known.hash, expiresAt);
    ctx.cookies.write(res, 'device', ctx.cookies.read(req, 'device')!, DEVICE_COOKIE_TTL);
    return;
  }
  const previous = ctx.cookies.read(req, 'device');
  if (previous) await ctx.storage.mfa.deleteDeviceCookie(sha256(previous));
  const value = ctx.random.token(32);
  await ctx.storage.mfa.insertDeviceCookie({ hash: sha256(value), userId, login: loginName(login), expiresAt }, now);
  ctx.cookies.write(res, 'device', value, DEVICE_COOKIE_TTL);
}

/** Revokes a device cookie (one that failed too often, or another user's): the browser is a stranger again. */
export async function forgetDevice(ctx: AppContext, res: Response, known: KnownDevice): Promise<void> {
  await ctx.storage.mfa.deleteDeviceCookie(known.hash);
  ctx.cookies.clear(res, 'device');
}
