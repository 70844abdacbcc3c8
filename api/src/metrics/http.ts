import type { RequestHandler } from 'express';
import type { HotObserver } from '../http/hot-routes.js';
import type { Metrics } from './registry.js';

/**
 * Times every request Express answers. The route label is the pattern of the route that
 * answered (`/api/v1/me/tokens/:id`), relative to the issuer's base path like the hot routes';
 * a request no route matched (static files, 404s) is `unmatched`.
 */
export function timeRequests(m: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    res.once('finish', () => {
      const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
      m.httpDuration.observe(
        { method: req.method, route: pattern === undefined ? 'unmatched' : String(pattern), status: res.statusCode },
        (performance.now() - start) / 1000,
      );
    });
    next();
  };
}

/** The same histogram for the hot routes answered before Express, and the UserInfo counter. */
export function observeHotRequests(m: Metrics): HotObserver {
  return (route, method, status, seconds) => {
    m.httpDuration.observe({ method, route, status }, seconds);
    if (route === '/oauth2/userinfo' && method !== 'OPTIONS') m.userinfo.inc({ result: status < 400 ? 'success' : 'failure' });
  };
}
