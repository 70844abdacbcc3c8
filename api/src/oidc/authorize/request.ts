import type { AuthorizeParams } from '@gatehouse/shared';
import type { Client } from '../../storage/clients.js';

/** The client and redirect URI, once both are validated; from here on errors are redirected. */
export interface TrustedTarget {
  client: Client;
  redirectUri: string;
  state: string | undefined;
}

/** A fully validated authorization request. */
export interface AuthorizeRequest extends TrustedTarget {
  params: AuthorizeParams;
  /** Requested scopes the client may have, in request order; always includes openid. */
  scopes: string[];
  prompts: Set<string>;
  maxAge: number | undefined;
}
