import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningAlg, UserinfoClaims } from '@gatehouse/shared';
import type { Keystore } from './keystore.js';

export interface IdTokenInput {
  issuer: string;
  clientId: string;
  alg: SigningAlg;
  claims: UserinfoClaims;
  now: number;
  ttl: number;
  authTime: number;
  sid: string;
  amr: string[];
  /** The upstream the user signed in with (federation), as the `idp` claim. */
  idp: string | null;
  nonce: string | null;
  accessToken: string;
}

/** Left half of the SHA-256 of the access token (OIDC Core §3.1.3.6); RS256 and ES256 both hash with SHA-256. */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

/** Signs an ID token (OIDC Core §2) carrying the claims the granted scopes release. */
export async function signIdToken(keys: Keystore, t: IdTokenInput): Promise<string> {
  const key = keys.signer(t.alg);
  return new SignJWT({
    ...t.claims,
    auth_time: t.authTime,
    ...(t.nonce !== null && { nonce: t.nonce }),
    at_hash: atHash(t.accessToken),
    sid: t.sid,
    amr: t.amr,
    ...(t.idp !== null && { idp: t.idp }),
  })
    .setProtectedHeader({ alg: t.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(t.issuer)
    .setSubject(t.claims.sub)
    .setAudience(t.clientId)
    .setIssuedAt(t.now)
    .setExpirationTime(t.now + t.ttl)
    .sign(key.privateKey);
}
