import type { RequestHandler } from 'express';

/**
 * CORS for the endpoints browser-based clients call directly (token, userinfo); no cookies are
 * involved there. The one definition: the Express middleware below and the hot userinfo route
 * (oidc/userinfo.ts) both send these.
 */
export const CORS_HEADERS = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' } as const;

/** What a preflight (OPTIONS, answered 204 with no body) adds. */
export const CORS_PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, POST',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Max-Age': '600',
} as const;

export const cors: RequestHandler = (req, res, next) => {
  res.set(CORS_HEADERS);
  if (req.method === 'OPTIONS') {
    res.set(CORS_PREFLIGHT_HEADERS);
    res.status(204).end();
    return;
  }
  next();
};
