import type { Account } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import type { UserSummary } from '../identity/provider.js';
import type { Client } from '../storage/clients.js';
import type { Grant } from '../storage/grants.js';
import { AccessDenied, InvalidGrant } from './errors.js';

/**
 * A client's access policy: with allowed groups, only users with one of them among their
 * effective groups (direct or inherited) may sign in; without, everyone may.
 */
export function allowsUser(client: Pick<Client, 'allowedGroups'>, user: Pick<UserSummary, 'groups'>): boolean {
  return client.allowedGroups.length === 0 || user.groups.some((g) => client.allowedGroups.includes(g));
}

/**
 * RFC 6749 §4.1.2.1 access_denied because the access policy leaves the user out. `recorded`
 * says the denial is already in the audit trail (it was recorded when it was first decided).
 */
export class NotAllowed extends AccessDenied {
  constructor(
    readonly userId: string,
    readonly recorded: boolean,
  ) {
    super('The user is not allowed to use this application.');
  }
}

/** The audit event of one denial by the access policy. */
export async function recordPolicyDenial(ctx: AppContext, userId: string, clientId: string, ip: string | null): Promise<void> {
  await ctx.audit.record({ event: 'authorize_denied', userId, clientId, ip, detail: { reason: 'group_policy' } }, ctx.clock.now());
}

/**
 * The token endpoint applies the policy too, so that neither a code redeemed after the user
 * left the allowed groups nor a refresh token outlives the membership: the grant is revoked.
 * Answers the account it read (none when the client has no policy), for minting the tokens.
 */
export async function enforceAccessPolicy(ctx: AppContext, client: Client, grant: Grant): Promise<Account | undefined> {
  if (client.allowedGroups.length === 0) return undefined;
  const account = await ctx.identity.findAccount(grant.userId);
  // A user who is gone or disabled is refused when the tokens are minted.
  if (!account || allowsUser(client, account)) return account;
  await ctx.storage.grants.revoke(grant.id, ctx.clock.now());
  throw new InvalidGrant('The user is no longer allowed to use this application.');
}
