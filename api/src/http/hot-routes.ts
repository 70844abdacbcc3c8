import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { captureHeaders } from './security-headers.js';

/**
 * Hot protocol endpoints: answered before the Express application, without its routing,
 * request/response decoration and middleware chain. Only endpoints that are called at high rates
 * and whose whole behaviour is simple enough to own here belong in this table (discovery, JWKS,
 * userinfo); everything else, and every method or path not in the table, goes to Express.
 */

/** Answers one request completely (errors included). */
export type HotHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HotRoute {
  /** Path below the issuer's base path, e.g. `/oauth2/jwks`. */
  path: string;
  /** By method. HEAD is answered by the GET handler (as Express routes it) unless it has its own. */
  methods: Partial<Record<'GET' | 'HEAD' | 'POST' | 'OPTIONS', HotHandler>>;
}

/** Answers a request if its method and path are in the table; false when Express must. */
export type HotRouter = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Told about each answered request when its response has been sent (for metrics). */
export type HotObserver = (route: HotRoute['path'], method: string, status: number, seconds: number) => void;

interface Entry {
  path: string;
  methods: HotRoute['methods'];
}

/**
 * Paths match as Express routes them: case-insensitively, with an optional trailing slash,
 * the query string ignored.
 */
export function hotRouter(basePath: string, routes: HotRoute[], observe?: HotObserver): HotRouter {
  const byPath = new Map<string, Entry>();
  for (const route of routes) {
    const key = `${basePath}${route.path}`.toLowerCase();
    if (byPath.has(key)) throw new Error(`two hot routes for ${key}`);
    const methods = route.methods.HEAD || !route.methods.GET ? route.methods : { ...route.methods, HEAD: route.methods.GET };
    byPath.set(key, { path: route.path, methods });
  }

  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let entry = byPath.get(path);
    if (!entry) {
      const lower = path.toLowerCase();
      entry = byPath.get(lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower);
      if (!entry) return false;
    }
    const handler = entry.methods[req.method as keyof HotRoute['methods']];
    if (!handler) return false;
    if (observe) {
      const start = performance.now();
      const route = entry.path;
      res.once('finish', () => observe(route, req.method!, res.statusCode, (performance.now() - start) / 1000));
    }
    handler(req, res);
    return true;
  };
}

/** A public document that never changes while the process runs (discovery, JWKS). */
export interface StaticDocument {
  path: string;
  /** Full Content-Type value, charset included. */
  contentType: string;
  body: string;
  /** Headers of this document beyond the security headers, in the order they are sent. */
  headers: Record<string, string>;
}

/** GET (and HEAD) of a precomputed document: headers and bytes computed once, one write per request. */
export function staticDocumentRoute(security: RequestHandler, doc: StaticDocument): HotRoute {
  const body = Buffer.from(doc.body, 'utf8');
  const headers: OutgoingHttpHeaders = captureHeaders(security, {
    ...doc.headers,
    'Content-Type': doc.contentType,
    'Content-Length': String(body.length),
  });
  return {
    path: doc.path,
    methods: {
      GET: (req, res) => {
        res.writeHead(200, headers);
        if (req.method === 'HEAD') res.end();
        else res.end(body);
      },
    },
  };
}
