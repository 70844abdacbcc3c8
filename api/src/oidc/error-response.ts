import type { ErrorRequestHandler, Response } from 'express';
import { OAuthError } from './errors.js';
import type { Logger } from '../http/logger.js';

/** RFC 6749 §5.2 JSON body; unexposed errors become a bare server_error. */
export function oauthErrorBody(err: unknown): { status: number; body: { error: string; error_description?: string } } {
  if (err instanceof OAuthError && err.expose) {
    return { status: err.status, body: { error: err.error, error_description: err.description } };
  }
  const parserError = err as { status?: unknown; expose?: unknown } | null;
  if (typeof parserError?.status === 'number' && parserError.status < 500 && parserError.expose === true) {
    return { status: 400, body: { error: 'invalid_request', error_description: 'The request body could not be read.' } };
  }
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
