import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';
import type { SigningAlg } from '@gatehouse/shared';
import type { Keystore } from './keystore.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenInput {
  issuer: string;
  alg: SigningAlg;
  sub: string;
  clientId: string;
  scope: string[];
  grantId: string;
  authTime: number;
  jti: string;
  now: number;
  ttl: number;
}

/** What a verified access token says. */
export interface AccessTokenClaims {
  sub: string;
  clientId: string;
  scope: string[];
  grantId: string;
}

/**
 * Signs a JWT access token (RFC 9068 §2). Gatehouse itself (userinfo, the REST API) is the
 * resource server, so the audience is the issuer. `gid` names the grant, so revoking the
 * grant revokes the token at our own endpoints.
 */
export async function signAccessToken(keys: Keystore, t: AccessTokenInput): Promise<string> {
  const key = keys.signer(t.alg);
  return new SignJWT({ client_id: t.clientId, scope: t.scope.join(' '), auth_time: t.authTime, gid: t.grantId })
    .setProtectedHeader({ alg: t.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(t.issuer)
    .setSubject(t.sub)
    .setAudience(t.issuer)
    .setIssuedAt(t.now)
    .setExpirationTime(t.now + t.ttl)
    .setJti(t.jti)
    .sign(key.privateKey);
}

/** Why a presented access token was refused; never sent to the client in detail. */
export class AccessTokenRejected extends Error {}

/** Verifies signature, type (RFC 9068 §4), issuer, audience and expiry against our own clock. */
export async function verifyAccessToken(keys: Keystore, token: string, issuer: string, now: number): Promise<AccessTokenClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = keys.verifier(header.kid);
        if (!key || key.alg !== header.alg) throw new AccessTokenRejected('unknown signing key');
        return key.publicKey;
      },
      { issuer, audience: issuer, typ: ACCESS_TOKEN_TYP, algorithms: ['RS256', 'ES256'], currentDate: new Date(now * 1000), clockTolerance: 0 },
    ));
  } catch (err) {
    if (err instanceof AccessTokenRejected) throw err;
    if (err instanceof errors.JOSEError) throw new AccessTokenRejected(err.code);
    throw new AccessTokenRejected('malformed token');
  }
  const { sub, client_id, scope, gid } = payload;
  if (typeof sub !== 'string' || typeof client_id !== 'string' || typeof scope !== 'string' || typeof gid !== 'string') {
    throw new AccessTokenRejected('missing claims');
  }
  return { sub, clientId: client_id, scope: scope.split(' '), grantId: gid };
}
