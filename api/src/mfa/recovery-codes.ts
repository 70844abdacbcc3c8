import { randomBytes } from 'node:crypto';
import { sha256 } from '../lib/hash.js';

export const RECOVERY_CODE_COUNT = 10;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** One recovery code: 80 random bits as 16 base32 characters, shown as XXXX-XXXX-XXXX-XXXX. */
function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** Fresh recovery codes: the codes to show once, and their hashes to store. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** 80 random bits make SHA-256 enough (brief: SHA-256 for high-entropy secrets). */
export function hashRecoveryCode(code: string): string {
  return sha256(code.replace(/[\s-]+/g, '').toUpperCase());
}
