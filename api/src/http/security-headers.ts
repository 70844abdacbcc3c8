import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The security headers of every response (helmet). The one place they are configured: the
 * Express application runs this middleware, and the endpoints answered before Express capture
 * its output once at start-up (captureHeaders, used by hot-routes.ts), so the two cannot diverge.
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

/**
 * The headers the security middleware sets, captured by running it once on a detached
 * response (it is synchronous and depends on nothing in the request), then `extra` set on top
 * as later middleware would: a name already there keeps its place and takes the new value.
 * Names keep their case and order.
 */
export function captureHeaders(security: RequestHandler, extra: Record<string, string> = {}): OutgoingHttpHeaders {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  const res = new ServerResponse(req);
  let called = false;
  security(req as Parameters<RequestHandler>[0], res as Parameters<RequestHandler>[1], (err?: unknown) => {
    if (err) throw err;
    called = true;
  });
  if (!called) throw new Error('the security headers middleware did not finish synchronously');
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  // getRawHeaderNames (Node >= 15.13) keeps the names' case and order; @types/node lacks it.
  const names = (res as ServerResponse & { getRawHeaderNames(): string[] }).getRawHeaderNames();
  const headers: OutgoingHttpHeaders = {};
  for (const name of names) headers[name] = res.getHeader(name);
  return headers;
}

/**
 * The security middleware's headers as one Express middleware: captured once (captureHeaders)
 * and set on each response, instead of running helmet's chain of middlewares per request.
 * Same names, case, order and values; a later middleware or route can still override any of
 * them (e.g. the error page's and the SPA shell's Content-Security-Policy).
 */
export function capturedSecurityHeaders(security: RequestHandler): RequestHandler {
  const entries = Object.entries(captureHeaders(security)).filter((e): e is [string, string | number | string[]] => e[1] !== undefined);
  return (_req, res, next) => {
    for (const [name, value] of entries) res.setHeader(name, value);
    next();
  };
}
