import { buildClaims, type Account, type TokenResponse } from '@gatehouse/shared';
import type { AppContext } from '../../context.js';
import { sha256 } from '../../lib/hash.js';
import type { Client } from '../../storage/clients.js';
import type { Grant, NewRefreshToken } from '../../storage/grants.js';
import { InvalidGrant } from '../errors.js';
import { signAccessToken } from '../tokens/access-token.js';
import { signIdToken } from '../tokens/id-token.js';

/** A token response, and the refresh token in it as it is to be stored. */
export interface MintedTokens {
  response: TokenResponse;
  refreshToken?: NewRefreshToken;
}

/**
 * Mints the token response for a grant: a JWT access token (RFC 9068), an ID token, and a
 * new refresh token when the client may use the refresh_token grant. `nonce` is only carried
 * on the code exchange (OIDC Core §12.2). `refreshScope` (default `scope`) is the new refresh
 * token's scope: a refresh that narrows the scope keeps the presented token's (RFC 6749 §6).
 * `account` is the grant's user when this request has read it already.
 *
 * It stores nothing: the grant stores the refresh token in the same transaction that spends
 * what was presented (the code, the previous refresh token), so neither happens without the other.
 */
export async function mintTokens(
  ctx: AppContext,
  client: Client,
  grant: Grant,
  scope: string[],
  options: { nonce: string | null; refreshScope?: string[]; account?: Account },
): Promise<MintedTokens> {
  const account = options.account ?? (await ctx.identity.findAccount(grant.userId));
  if (!account) {
    await ctx.storage.grants.revoke(grant.id, ctx.clock.now());
    throw new InvalidGrant('The user of this grant no longer exists or is disabled.');
  }
  const now = ctx.clock.now();
  const { ttl, issuer } = ctx.config;
  const accessToken = await signAccessToken(ctx.keys, {
    issuer,
    alg: client.idTokenAlg,
    sub: account.sub,
    clientId: client.id,
    scope,
    grantId: grant.id,
    authTime: grant.authTime,
    jti: ctx.random.token(16),
    now,
    ttl: ttl.accessToken,
  });
  const idToken = await signIdToken(ctx.keys, {
    issuer,
    clientId: client.id,
    alg: client.idTokenAlg,
    claims: buildClaims(account, scope),
    now,
    ttl: ttl.idToken,
    authTime: grant.authTime,
    sid: grant.sessionId,
    amr: grant.amr,
    idp: grant.idp,
    nonce: options.nonce,
    accessToken,
  });
  const refresh = client.grantTypes.includes('refresh_token') ? ctx.random.token(32) : undefined;
  return {
    response: {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ttl.accessToken,
      scope: scope.join(' '),
      id_token: idToken,
      ...(refresh && { refresh_token: refresh }),
    },
    ...(refresh && {
      refreshToken: { hash: sha256(refresh), grantId: grant.id, scope: options.refreshScope ?? scope, expiresAt: now + ttl.refreshToken },
    }),
  };
}
