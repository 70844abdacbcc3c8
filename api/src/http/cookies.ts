import { parse } from 'cookie';
import type { Request, Response } from 'express';

/** `device` marks a browser that signed in before, for the sign-in throttle (session/device-cookies.ts). */
export type CookieName = 'session' | 'browser' | 'device';

/**
 * `Lax` lets the session and browser cookies come along when an application sends the browser
 * here to sign in. The device cookie is only read by the sign-in fetch of Gatehouse's own pages,
 * so it is `Strict`: no other site's request ever carries it.
 */
const SAME_SITE: Record<CookieName, 'lax' | 'strict'> = { session: 'lax', browser: 'lax', device: 'strict' };

/**
 * Cookie names and attributes. With an https issuer the cookies are `Secure` and carry the
 * `__Host-` prefix, which pins them to this host and path `/`.
 */
export class Cookies {
  private readonly secure: boolean;
  private readonly names: Record<CookieName, string>;

  constructor(issuer: string) {
    this.secure = new URL(issuer).protocol === 'https:';
    const prefix = this.secure ? '__Host-' : '';
    this.names = {
      session: `${prefix}gatehouse_session`,
      browser: `${prefix}gatehouse_browser`,
      device: `${prefix}gatehouse_device`,
    };
  }

  read(req: Request, name: CookieName): string | undefined {
    const header = req.headers.cookie;
    if (!header) return undefined;
    return parse(header)[this.names[name]];
  }

  /** `maxAgeSeconds` undefined makes a browser-session cookie. */
  write(res: Response, name: CookieName, value: string, maxAgeSeconds?: number): void {
    res.cookie(this.names[name], value, {
      httpOnly: true,
      sameSite: SAME_SITE[name],
      secure: this.secure,
      path: '/',
      ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds * 1000 }),
    });
  }

  clear(res: Response, name: CookieName): void {
    res.clearCookie(this.names[name], { httpOnly: true, sameSite: SAME_SITE[name], secure: this.secure, path: '/' });
  }
}
