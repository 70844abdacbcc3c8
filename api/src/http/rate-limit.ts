import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';

/**
 * A per-IP limit with standard RateLimit-* headers (draft-8) and 429 + Retry-After.
 * `respond` writes the 429 body in the surface's own error shape.
 */
export function limitPerIp(limit: number, windowSeconds: number, respond: RequestHandler): RequestHandler {
  return rateLimit({
    windowMs: windowSeconds * 1000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: respond,
  });
}
