import type { Client } from '../../storage/clients.js';
import { InvalidRequest } from '../errors.js';

/**
 * OIDC Core §3.1.2.1: redirect_uri is required and MUST exactly match a registered one.
 * Simple string comparison (RFC 9700 §4.1.3): no prefixes, wildcards, case folding or port leniency.
 */
export function checkRedirectUri(client: Client, redirectUri: string | undefined): string {
  if (!redirectUri) throw new InvalidRequest('redirect_uri is missing.');
  if (!client.redirectUris.includes(redirectUri)) {
    throw new InvalidRequest('The redirect_uri is not registered for this application.');
  }
  return redirectUri;
}
