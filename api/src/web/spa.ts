import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Paths that belong to the API and the protocol; they never fall back to the app shell. */
const RESERVED = /^\/(api|oauth2|\.well-known|healthz|readyz|metrics)(\/|$)/;

/** The built SPA next to this package: <repo>/web/build (from api/src/web and api/dist/web alike). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/build', import.meta.url));

/**
 * The shell's policy as a header. SvelteKit writes the policy, with the hashes of its inline
 * bootstrap script, into a <meta>; a header can also forbid framing, which a <meta> cannot.
 */
export function shellPolicy(html: string): string {
  const meta = /<meta http-equiv="content-security-policy" content="([^"]+)"/i.exec(html)?.[1];
  return `${meta ?? "default-src 'self'"}; frame-ancestors 'none'`;
}

/**
 * Serves the SPA: hashed assets under /_app/immutable for a year, everything else revalidated,
 * and the app shell for any other GET that is not an API or protocol path.
 */
export function spaRouter(webDir: string): Router {
  const router = Router();
  const shellFile = path.join(webDir, 'index.html');
  if (!existsSync(shellFile)) {
    router.get(/.*/, (req, res, next) => {
      if (RESERVED.test(req.path)) return next();
      res.status(503).set('Cache-Control', 'no-store').type('text').send('The Gatehouse web interface is not built. Run: npm run build');
    });
    return router;
  }
  const shell = readFileSync(shellFile, 'utf8');
  const policy = shellPolicy(shell);

  router.use(
    '/_app/immutable',
    express.static(path.join(webDir, '_app', 'immutable'), { immutable: true, maxAge: '365d', index: false }),
    (_req: express.Request, res: express.Response) => {
      res.status(404).set('Cache-Control', 'no-store').type('text').send('Not found');
    },
  );
  router.use(
    express.static(webDir, {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  router.get(/.*/, (req, res, next) => {
    if (RESERVED.test(req.path)) return next();
    res.set('Cache-Control', 'no-cache').set('Content-Security-Policy', policy).type('html').send(shell);
  });
  return router;
}
