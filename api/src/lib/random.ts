import { randomBytes } from 'node:crypto';

/** Source of unguessable values; injected like the clock. */
export interface Random {
  /** `bytes` random bytes, base64url-encoded. 32 bytes = 256 bits. */
  token(bytes?: number): string;
}

export const cryptoRandom: Random = { token: (bytes = 32) => randomBytes(bytes).toString('base64url') };
