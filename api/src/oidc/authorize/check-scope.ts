import { isGrantableScope, splitScope, type AuthorizeParams } from '@gatehouse/shared';
import type { Client } from '../../storage/clients.js';
import { InvalidScope } from '../errors.js';

/**
 * The scopes to grant: requested ∩ understood ∩ allowed for the client (OIDC Core §3.1.2.1:
 * unknown scopes SHOULD be ignored). `offline_access` needs the refresh_token grant (§11).
 */
export function checkScope(params: AuthorizeParams, client: Client): string[] {
  const requested = splitScope(params.scope);
  if (!requested.includes('openid')) throw new InvalidScope('The scope must include openid.');
  return requested.filter(
    (s) => isGrantableScope(s) && client.scopes.includes(s) && (s !== 'offline_access' || client.grantTypes.includes('refresh_token')),
  );
}
