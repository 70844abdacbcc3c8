import type { AuthorizeParams } from '@gatehouse/shared';
import { InvalidRequest, UnsupportedResponseType } from '../errors.js';

/** Only the authorization code flow (RFC 9700 §2.1.2), answered in the query. */
export function checkResponseType(params: AuthorizeParams): void {
  if (!params.response_type) throw new InvalidRequest('response_type is missing.');
  if (params.response_type !== 'code') {
    throw new UnsupportedResponseType('Only response_type=code is supported.');
  }
  if (params.response_mode !== undefined && params.response_mode !== 'query') {
    throw new InvalidRequest('Only response_mode=query is supported.');
  }
}
