import type { AppContext } from '../../context.js';
import type { Client } from '../../storage/clients.js';
import { InvalidRequest, UnauthorizedClient } from '../errors.js';

/** RFC 6749 §4.1.2.1: an unknown client is shown an error, never redirected to. */
export async function checkClient(ctx: AppContext, clientId: string | undefined): Promise<Client> {
  if (!clientId) throw new InvalidRequest('client_id is missing.');
  const client = await ctx.storage.clients.find(clientId);
  if (!client) throw new InvalidRequest('The application (client_id) is not registered with Gatehouse.');
  if (!client.grantTypes.includes('authorization_code')) {
    throw new UnauthorizedClient('The application may not use the authorization code flow.');
  }
  return client;
}
