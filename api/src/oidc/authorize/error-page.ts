import { createHash } from 'node:crypto';
import type { ErrorRequestHandler, Response } from 'express';
import type { OAuthErrorCode } from '@gatehouse/shared';
import type { Logger } from '../../http/logger.js';
import { OAuthError } from '../errors.js';
import { oauthErrorBody } from '../error-response.js';

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}' +
  'main{max-width:32rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}' +
  'h1{font-size:1.4rem;margin-top:0}code{font-size:.85rem;color:#5a6270}a{color:#1f5fbf}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The error screen for authorization requests that cannot be answered to the client (unknown
 * client, unregistered redirect_uri, expired request). Never a redirect; no script.
 */
export function sendErrorPage(res: Response, err: OAuthError, title = 'This sign-in request cannot continue'): void {
  res
    .status(err.status)
    .set('Cache-Control', 'no-store')
    .set(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<title>${escape(title)} · Gatehouse</title><style>${STYLE}</style></head><body><main>` +
        `<h1>${escape(title)}</h1><p>${escape(err.description)}</p>` +
        `<p>Go back to the application you came from and try again. If it keeps happening, tell the people who run it.</p>` +
        `<p><code>error: ${escape(err.error)}</code></p><p><a href="/">Go to Gatehouse</a></p></main></body></html>`,
    );
}

/**
 * The error responder of the browser-facing protocol routers (authorize, end-session): what
 * reaches Express's error path there — an unreadable body or path, a failure of ours — is an
 * error page too, in RFC 6749's terms, and only a failure of ours is logged.
 */
export function errorPageHandler(log: Logger, title?: string): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body } = oauthErrorBody(err);
    if (status >= 500) log.error('browser endpoint failed', err, req);
    sendErrorPage(
      res,
      new OAuthError(body.error as OAuthErrorCode, body.error_description ?? 'The request cannot be answered.', status),
      title,
    );
  };
}
