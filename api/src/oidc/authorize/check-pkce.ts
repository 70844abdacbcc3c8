import type { AuthorizeParams } from '@gatehouse/shared';
import type { Client } from '../../storage/clients.js';
import { InvalidRequest } from '../errors.js';

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * RFC 7636 and RFC 9700 §2.1.1:
 * - only S256; `plain` (also the default when the method is omitted) is refused
 * - a method needs a challenge, and a challenge must look like a base64url SHA-256
 * - public clients must use PKCE; confidential clients may
 */
export function checkPkce(params: AuthorizeParams, client: Client): void {
  const { code_challenge: challenge, code_challenge_method: method } = params;
  if (method !== undefined && challenge === undefined) {
    throw new InvalidRequest('code_challenge_method was given without code_challenge.');
  }
  if (challenge !== undefined) {
    if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256.');
    if (!S256_CHALLENGE.test(challenge)) {
      throw new InvalidRequest('code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).');
    }
  }
  if (challenge === undefined && client.type === 'public') {
    throw new InvalidRequest('PKCE (code_challenge with S256) is required for this application.');
  }
}
