import { RefreshTokenGrant, heldScopes, isApiScope, splitScope, type TokenResponse } from '@gatehouse/shared';
import type { AppContext } from '../../../context.js';
import { sha256 } from '../../../lib/hash.js';
import type { Client } from '../../../storage/clients.js';
import { enforceAccessPolicy } from '../../access-policy.js';
import { InvalidGrant, InvalidScope } from '../../errors.js';
import { mintTokens } from '../mint-tokens.js';
import { parseGrant } from './parse.js';

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2):
 * - every use returns a new refresh token and retires the presented one, in one transaction
 * - a retired token presented again after the grace period revokes the whole grant
 * - a grant without offline_access ends with its session (OIDC Core §11)
 * - a user the client's access policy no longer lets in loses the grant
 * - scope may only narrow
 */
export async function refresh(ctx: AppContext, client: Client, body: Record<string, string>, ip: string | null): Promise<TokenResponse> {
  const params = parseGrant(RefreshTokenGrant, body);
  const now = ctx.clock.now();
  const token = await ctx.storage.grants.findRefreshToken(sha256(params.refresh_token));
  if (!token || token.expiresAt <= now || token.grant.clientId !== client.id) {
    throw new InvalidGrant('The refresh token is invalid or has expired.');
  }
  const { grant } = token;
  if (grant.revokedAt !== null) throw new InvalidGrant('The refresh token has been revoked.');
  const reused = async () => {
    await ctx.storage.grants.revoke(grant.id, now);
    await ctx.audit.record({ event: 'refresh_reuse', userId: grant.userId, clientId: client.id, ip }, now);
    return new InvalidGrant('The refresh token was already used; the grant is revoked.');
  };
  const pastGrace = (rotatedAt: number) => now - rotatedAt >= ctx.config.ttl.refreshReuseGrace;
  if (token.rotatedAt !== null && pastGrace(token.rotatedAt)) throw await reused();
  if (!grant.offline) {
    const session = await ctx.storage.sessions.find(grant.sessionId);
    if (!session || !ctx.sessions.isActive(session, now)) {
      await ctx.storage.grants.revoke(grant.id, now);
      throw new InvalidGrant('The session this refresh token belongs to has ended.');
    }
  }
  const account = await enforceAccessPolicy(ctx, client, grant);
  let scope = token.scope;
  if (params.scope !== undefined) {
    const asked = splitScope(params.scope);
    const extra = asked.filter((s) => !token.scope.includes(s));
    if (extra.length > 0) throw new InvalidScope(`The refresh token does not cover: ${extra.join(' ')}.`);
    scope = token.scope.filter((s) => asked.includes(s));
    if (!scope.includes('openid')) throw new InvalidScope('The scope must include openid.');
  }
  // An API scope the user no longer holds (an admin scope after losing admin) is left out.
  if (scope.some(isApiScope)) {
    const user = await ctx.identity.findUser(grant.userId);
    scope = heldScopes(scope, user?.isAdmin ?? false);
  }
  const tokens = await mintTokens(ctx, client, grant, scope, { nonce: null, refreshScope: token.scope, account });
  const first = token.rotatedAt === null;
  if (!(await ctx.storage.grants.rotateRefreshToken(token.hash, now, tokens.refreshToken, first))) {
    // A concurrent exchange rotated it first: the same reuse rule, from its rotation time.
    const rotatedAt = (await ctx.storage.grants.findRefreshToken(token.hash))?.rotatedAt;
    if (rotatedAt == null || pastGrace(rotatedAt)) throw await reused();
    await ctx.storage.grants.rotateRefreshToken(token.hash, now, tokens.refreshToken, false);
  }
  await ctx.audit.record({ event: 'token_refreshed', userId: grant.userId, clientId: client.id, ip }, now);
  return tokens.response;
}
