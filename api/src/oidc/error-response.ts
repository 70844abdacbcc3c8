import type { ErrorRequestHandler, Response } from 'express';
import type { OAuthErrorCode } from '@gatehouse/shared';
import { clientFault } from '../http/client-error.js';
import type { Logger } from '../http/logger.js';
import { OAuthError } from './errors.js';

/**
 * RFC 6749 §5.2 JSON body. A request Express could not take (an undecodable path, an
 * unreadable body) is the client's `invalid_request`, with status 400 as §5.2 has it;
 * unexposed errors become a bare server_error.
 */
export function oauthErrorBody(err: unknown): { status: number; body: { error: OAuthErrorCode; error_description?: string } } {
  if (err instanceof OAuthError && err.expose) {
    return { status: err.status, body: { error: err.error, error_description: err.description } };
  }
  const fault = clientFault(err);
  if (fault) return { status: 400, body: { error: 'invalid_request', error_description: fault.message } };
  return { status: 500, body: { error: 'server_error', error_description: 'The server could not complete the request.' } };
}

export function sendOAuthError(res: Response, err: unknown): void {
  const { status, body } = oauthErrorBody(err);
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

/** Error handler for the JSON OAuth endpoints (token, userinfo). */
export function oauthErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (oauthErrorBody(err).status >= 500) log.error('oauth endpoint failed', err, req);
    sendOAuthError(res, err);
  };
}
