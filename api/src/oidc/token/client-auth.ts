import type { Request } from 'express';
import type { AppContext } from '../../context.js';
import { safeEqual, sha256 } from '../../lib/hash.js';
import type { Client } from '../../storage/clients.js';
import { InvalidClient, InvalidRequest } from '../errors.js';

export class InvalidClientBasic extends InvalidClient {}

function decodeBasic(header: string): { id: string; secret: string } {
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClientBasic('The Authorization header is not valid Basic credentials.');
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClientBasic('The Basic credentials are not correctly encoded.');
  }
}

/** The client a request claims to be, for the audit trail of a failed request. */
export function claimedClientId(req: Request, body: Record<string, string>): string | null {
  const header = req.get('authorization');
  if (header && /^basic /i.test(header)) {
    try {
      return decodeBasic(header).id;
    } catch {
      return null;
    }
  }
  return body.client_id ?? null;
}

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9):
 * - exactly one method per request; it must be the one the client registered
 * - secrets are compared by SHA-256 in constant time
 * - public clients (`none`) only name themselves
 */
export async function authenticateClient(ctx: AppContext, req: Request, body: Record<string, string>): Promise<Client> {
  const header = req.get('authorization');
  const basic = header !== undefined && /^basic /i.test(header);
  if (basic && body.client_secret !== undefined) {
    throw new InvalidRequest('Use only one client authentication method.');
  }
  const method = basic ? 'client_secret_basic' : body.client_secret !== undefined ? 'client_secret_post' : 'none';
  const credentials = basic ? decodeBasic(header) : { id: body.client_id, secret: body.client_secret };
  if (basic && body.client_id !== undefined && body.client_id !== credentials.id) {
    throw new InvalidRequest('client_id does not match the Authorization header.');
  }
  if (!credentials.id) throw new InvalidClient('Client authentication is missing.');

  const Failure = basic ? InvalidClientBasic : InvalidClient;
  const client = await ctx.storage.clients.find(credentials.id);
  if (!client) throw new Failure('Client authentication failed.');
  if (client.tokenEndpointAuthMethod !== method) {
    throw new Failure(`This client must authenticate with ${client.tokenEndpointAuthMethod}.`);
  }
  if (method !== 'none' && (!client.secretHash || !safeEqual(sha256(credentials.secret ?? ''), client.secretHash))) {
    throw new Failure('Client authentication failed.');
  }
  return client;
}
