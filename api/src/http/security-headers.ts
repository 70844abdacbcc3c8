import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The security headers of every response (helmet). The one place they are configured: the
 * Express application runs this middleware, and the static-document fast path captures its
 * output once at start-up (see static-documents.ts), so the two cannot diverge.
 */
export function securityHeaders(issuer: string): RequestHandler {
  const https = new URL(issuer).protocol === 'https:';
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
    },
    // Authorization responses carry codes in the URL; never leak them in a Referer.
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31536000, includeSubDomains: false } : false,
  });
}
