import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { sha256 } from '../lib/hash.js';

const ONE_YEAR = 365 * 24 * 3600;

/**
 * A random cookie that names this browser, so that what it starts (a pending authorization
 * request, a second sign-in step) is useless in another browser. Answers its SHA-256, the only
 * form that is stored; sets the cookie when the browser has none yet.
 */
export function browserBinding(ctx: AppContext, req: Request, res: Response): string {
  let value = ctx.cookies.read(req, 'browser');
  if (!value) {
    value = ctx.random.token(32);
    ctx.cookies.write(res, 'browser', value, ONE_YEAR);
  }
  return sha256(value);
}

/** The SHA-256 of this browser's binding cookie, or undefined when it has none. */
export function browserHashOf(ctx: AppContext, req: Request): string | undefined {
  const value = ctx.cookies.read(req, 'browser');
  return value ? sha256(value) : undefined;
}
