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
  readonly sub: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly grantId: string;
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

/**
 * Why a presented access token was refused:
 * - `invalid`: not a token Gatehouse signed as an access token (signature, key, typ, issuer,
 *   audience, claims)
 * - `expired`: Gatehouse signed it, and its `exp` has passed
 * - `revoked`: its grant was revoked, or is not the subject's and the client's
 * - `user_gone`: its user no longer exists or is disabled
 * - `insufficient_scope`: valid, but without the scope the caller asked for
 */
export type AccessTokenRejection = 'invalid' | 'expired' | 'revoked' | 'user_gone' | 'insufficient_scope';

/** Why a presented access token was refused; `reason` picks the answer, the message is for the log only. */
export class AccessTokenRejected extends Error {
  constructor(
    readonly reason: AccessTokenRejection,
    detail: string = reason,
  ) {
    super(detail);
    this.name = 'AccessTokenRejected';
  }
}

/** A verified token: its claims, and when it was issued and expires (seconds since the epoch). */
export interface VerifiedAccessToken {
  readonly claims: AccessTokenClaims;
  readonly exp: number;
  readonly iat: number;
}

/** What the cache keeps; `exp` and `nbf` are checked again on every use. */
interface Verified extends VerifiedAccessToken {
  readonly nbf: number | undefined;
}

async function verify(keys: Keystore, token: string, issuer: string, now: number): Promise<Verified> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = keys.verifier(header.kid);
        if (!key || key.alg !== header.alg) throw new AccessTokenRejected('invalid', 'unknown signing key');
        return key.publicKey;
      },
      {
        issuer,
        audience: issuer,
        typ: ACCESS_TOKEN_TYP,
        algorithms: ['RS256', 'ES256'],
        currentDate: new Date(now * 1000),
        clockTolerance: 0,
      },
    ));
  } catch (err) {
    if (err instanceof AccessTokenRejected) throw err;
    if (err instanceof errors.JOSEError) throw new AccessTokenRejected(err.code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid', err.code);
    throw new AccessTokenRejected('invalid', 'malformed token');
  }
  const { sub, client_id, scope, gid, exp, iat } = payload;
  if (
    typeof sub !== 'string' ||
    typeof client_id !== 'string' ||
    typeof scope !== 'string' ||
    typeof gid !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number'
  ) {
    throw new AccessTokenRejected('invalid', 'missing claims');
  }
  const claims = Object.freeze({ sub, clientId: client_id, scope: Object.freeze(scope.split(' ')), grantId: gid });
  return Object.freeze({ claims, exp, iat, nbf: payload.nbf });
}

/**
 * Verifies signature, type (RFC 9068 §4), issuer, audience and expiry against our own clock,
 * with a bounded cache of verified tokens keyed by the token text: a client presents the same
 * access token many times, and the same text always verifies the same way against the same
 * keys (the keystore does not change while the process runs).
 * What depends on time is checked again on every use, exactly as jose does (tolerance 0):
 * expired from `exp` on, not valid before `nbf`. Only accepted tokens are kept; the least
 * recently used is dropped when full. This caches the signature check only: whether the
 * grant is still unrevoked is checked on every request (AccessTokenValidator).
 */
export class AccessTokenVerifier {
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly keys: Keystore,
    private readonly issuer: string,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    return (await this.verifyToken(token, now)).claims;
  }

  /** verify, answering the time claims (`exp`, `iat`) along with the claims. */
  async verifyToken(token: string, now: number): Promise<VerifiedAccessToken> {
    const hit = this.verified.get(token);
    if (hit) {
      this.verified.delete(token);
      if (now < hit.exp && (hit.nbf === undefined || hit.nbf <= now)) {
        this.verified.set(token, hit); // most recently used last
        return hit;
      }
      // Out of its time window: verify in full, which rejects with the reason.
    }
    const result = await verify(this.keys, token, this.issuer, now);
    this.verified.set(token, result);
    if (this.verified.size > this.maxEntries) this.verified.delete(this.verified.keys().next().value as string);
    return result;
  }
}
