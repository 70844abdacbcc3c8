import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { RequestHandler } from 'express';

/** A public document that never changes while the process runs (discovery, JWKS). */
export interface StaticDocument {
  /** Path below the issuer's base path, e.g. `/oauth2/jwks`. */
  path: string;
  /** Full Content-Type value, charset included. */
  contentType: string;
  body: string;
  /** Headers of this document beyond the security headers, in the order they are sent. */
  headers: Record<string, string>;
}

/** Answers a request if it is a GET or HEAD of one of the documents; false when it is not. */
export type StaticResponder = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The headers the security middleware sets, captured by running it once on a detached
 * response; the middleware is synchronous and depends on nothing in the request.
 */
function capturedHeaders(security: RequestHandler, extra: Record<string, string>): OutgoingHttpHeaders {
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
 * A responder for precomputed public documents that runs before the Express application:
 * bodies and headers are computed once, so a request costs a map lookup and one write.
 * Paths match as Express routes them: case-insensitively, with an optional trailing slash,
 * the query string ignored. Anything else (other methods or paths) is left to Express.
 */
export function staticResponder(basePath: string, security: RequestHandler, documents: StaticDocument[]): StaticResponder {
  const byPath = new Map<string, { headers: OutgoingHttpHeaders; body: Buffer }>();
  for (const doc of documents) {
    const body = Buffer.from(doc.body, 'utf8');
    const headers = capturedHeaders(security, {
      ...doc.headers,
      'Content-Type': doc.contentType,
      'Content-Length': String(body.length),
    });
    byPath.set(`${basePath}${doc.path}`.toLowerCase(), { headers, body });
  }

  return (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let doc = byPath.get(path);
    if (!doc) {
      const lower = path.toLowerCase();
      doc = byPath.get(lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower);
      if (!doc) return false;
    }
    res.writeHead(200, doc.headers);
    if (method === 'HEAD') res.end();
    else res.end(doc.body);
    return true;
  };
}
