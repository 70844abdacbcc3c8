import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a high-entropy secret (token, code, client secret), base64url. Used as its storage key. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
