import type { Request, RequestHandler } from 'express';
import { CSRF_HEADER, CSRF_HEADER_VALUE } from '@gatehouse/shared';
import { ApiError } from './api-error.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated JSON calls: a state-changing request must come from
 * our own origin (Origin header, or Sec-Fetch-Site when a browser sends no Origin) and carry
 * the custom header, which no cross-site form can set.
 */
export function requireSameOrigin(issuerOrigin: string): RequestHandler {
  return (req, _res, next) => next(passesCsrfCheck(req, issuerOrigin) ? undefined : csrfRejected());
}

/** True for safe methods, and for state-changing calls from our own origin with the header. */
export function passesCsrfCheck(req: Request, issuerOrigin: string): boolean {
  if (SAFE_METHODS.has(req.method)) return true;
  const origin = req.get('origin');
  const fetchSite = req.get('sec-fetch-site');
  const sameOrigin = origin ? origin === issuerOrigin : fetchSite === undefined || fetchSite === 'same-origin';
  return sameOrigin && req.get(CSRF_HEADER) === CSRF_HEADER_VALUE;
}

export const csrfRejected = () => new ApiError('csrf_rejected', 403, 'The request did not come from Gatehouse itself.');
