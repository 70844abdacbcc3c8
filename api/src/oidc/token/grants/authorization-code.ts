import { createHash } from 'node:crypto';
import { AuthorizationCodeGrant, type TokenResponse } from '@gatehouse/shared';
import type { AppContext } from '../../../context.js';
import { safeEqual, sha256 } from '../../../lib/hash.js';
import type { Client } from '../../../storage/clients.js';
import { enforceAccessPolicy } from '../../access-policy.js';
import { InvalidGrant } from '../../errors.js';
import { mintTokens } from '../mint-tokens.js';
import { parseGrant } from './parse.js';

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.6 and RFC 9700 §2.1.1 / §4.5:
 * - the code exists, is unexpired, was issued to this client for this redirect_uri
 * - the verifier matches the S256 challenge; a verifier without a challenge is refused
 * - a second redemption revokes every token issued from the code
 * - the code is spent in the transaction that stores the refresh token, so a failure between
 *   the two cannot leave a spent code whose retry would revoke the grant
 * - the user is still let in by the client's access policy
 */
export async function exchangeCode(
  ctx: AppContext,
  client: Client,
  body: Record<string, string>,
  ip: string | null,
): Promise<TokenResponse> {
  const params = parseGrant(AuthorizationCodeGrant, body);
  const hash = sha256(params.code);
  const now = ctx.clock.now();
  const code = await ctx.storage.grants.findCode(hash);
  if (!code || code.expiresAt <= now) throw new InvalidGrant('The authorization code is invalid or has expired.');
  if (code.grant.clientId !== client.id) throw new InvalidGrant('The authorization code was issued to another client.');
  if (code.consumedAt !== null || code.grant.revokedAt !== null) {
    await ctx.storage.grants.revoke(code.grant.id, now);
    await ctx.audit.record({ event: 'code_reuse', userId: code.grant.userId, clientId: client.id, ip }, now);
    throw new InvalidGrant('The authorization code was already used; tokens issued from it are revoked.');
  }
  if (params.redirect_uri !== code.redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request.');
  if (code.codeChallenge !== null) {
    if (!params.code_verifier) throw new InvalidGrant('code_verifier is required.');
    const computed = createHash('sha256').update(params.code_verifier).digest('base64url');
    if (!safeEqual(computed, code.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge.');
  } else if (params.code_verifier !== undefined) {
    throw new InvalidGrant('code_verifier was sent but the authorization request had no code_challenge.');
  }
  const account = await enforceAccessPolicy(ctx, client, code.grant);
  const tokens = await mintTokens(ctx, client, code.grant, code.grant.scope, { nonce: code.grant.nonce, account });
  if (!(await ctx.storage.grants.redeemCode(hash, now, tokens.refreshToken))) {
    // Another request spent the code since it was read above.
    await ctx.storage.grants.revoke(code.grant.id, now);
    throw new InvalidGrant('The authorization code was already used; tokens issued from it are revoked.');
  }
  await ctx.audit.record(
    { event: 'token_issued', userId: code.grant.userId, clientId: client.id, ip, detail: { grant_type: 'authorization_code' } },
    now,
  );
  return tokens.response;
}
