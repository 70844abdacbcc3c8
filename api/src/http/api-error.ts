import type { ErrorRequestHandler } from 'express';
import type { ApiErrorBody, ApiErrorCode } from '@gatehouse/shared';
import { IdentityUnavailable, NotSupported } from '../identity/provider.js';
import { clientFault } from './client-error.js';
import type { Logger } from './logger.js';

/** A JSON API failure: one shape, a stable code, the right status. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static validation(details: unknown, message = 'The request is not valid.'): ApiError {
    return new ApiError('validation_failed', 400, message, details);
  }
  static unauthenticated(message = 'Sign in first.'): ApiError {
    return new ApiError('unauthenticated', 401, message);
  }
  static notFound(message: string): ApiError {
    return new ApiError('not_found', 404, message);
  }
}

export function apiErrorBody(err: ApiError): ApiErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } };
}

/**
 * Error handler for /api: known errors keep their code; a request Express could not take (an
 * undecodable path, an unreadable body) keeps its 4xx as `bad_request` and is not logged; the
 * rest are 500 and logged.
 */
export function apiErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let apiError: ApiError;
    const fault = clientFault(err);
    if (err instanceof ApiError) apiError = err;
    else if (err instanceof NotSupported) apiError = new ApiError('not_supported', 501, err.message);
    else if (err instanceof IdentityUnavailable) {
      log.error('identity backend unavailable', err, req);
      apiError = new ApiError('unavailable', 503, 'The identity service cannot be reached right now. Try again in a minute.');
    } else if (fault) {
      apiError = new ApiError('bad_request', fault.status, fault.message);
    } else {
      log.error('api request failed', err, req);
      apiError = new ApiError('internal_error', 500, 'Something went wrong on our side.');
    }
    res.status(apiError.status).set('Cache-Control', 'no-store').json(apiErrorBody(apiError));
  };
}
