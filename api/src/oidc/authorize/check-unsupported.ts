import type { AuthorizeParams } from '@gatehouse/shared';
import { OAuthError } from '../errors.js';

/** OIDC Core §6.1, §6.2, and OIDC Registration §3: features we do not offer get their own errors. */
export function checkUnsupported(params: AuthorizeParams): void {
  if (params.request !== undefined) throw new OAuthError('request_not_supported', 'Request objects are not supported.');
  if (params.request_uri !== undefined) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported.');
  if (params.registration !== undefined) throw new OAuthError('registration_not_supported', 'registration is not supported.');
}
