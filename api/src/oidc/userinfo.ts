import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { buildClaims } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { clientIp, type TrustProxy } from '../http/client-ip.js';
import { CORS_HEADERS, CORS_PREFLIGHT_HEADERS } from '../http/cors.js';
import type { HotRoute } from '../http/hot-routes.js';
import { PerIpLimit } from '../http/rate-limit.js';
import { captureHeaders } from '../http/security-headers.js';
import { InsufficientScope, InvalidRequest, InvalidToken, OAuthError } from './errors.js';
import { oauthErrorBody } from './error-response.js';
import { AccessTokenRejected, type AccessTokenRejection } from './tokens/access-token.js';

type FormRequest = IncomingMessage & { body?: Record<string, unknown> };

/** RFC 6750 §2.1 header or §2.2 form body; never the query string (RFC 9700 §4.3.2). */
function bearerToken(req: FormRequest): string | undefined {
  const header = req.headers.authorization;
  const fromHeader = header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  const fromBody = req.method === 'POST' && typeof req.body?.access_token === 'string' ? req.body.access_token : undefined;
  if (fromHeader !== undefined && fromBody !== undefined) throw new InvalidRequest('Send the access token in one place only.');
  return fromHeader || fromBody;
}

/** RFC 6750 §3: the WWW-Authenticate challenge, with the error when there is one. */
function challenge(realm: string, err?: OAuthError): string {
  const params = [`realm="${realm}"`];
  if (err) params.push(`error="${err.error}"`, `error_description="${err.description.replace(/"/g, "'")}"`);
  if (err instanceof InsufficientScope) params.push('scope="openid"');
  return `Bearer ${params.join(', ')}`;
}

const loggedRequest = (req: IncomingMessage) => ({ method: req.method, path: (req.url ?? '').split('?')[0] });

const JSON_TYPE = 'application/json; charset=utf-8';

/** RFC 6750 §3.1: each refusal of the token as the error that answers it. */
const REFUSALS: Record<AccessTokenRejection, () => OAuthError> = {
  invalid: () => new InvalidToken('The access token is invalid or has expired.'),
  expired: () => new InvalidToken('The access token is invalid or has expired.'),
  revoked: () => new InvalidToken('The access token has been revoked.'),
  insufficient_scope: () => new InsufficientScope('The access token lacks the openid scope.'),
  user_gone: () => new InvalidToken('The user of this token no longer exists or is disabled.'),
};

/**
 * The UserInfo endpoint (OIDC Core §5.3): claims released by the token's scopes. A hot route
 * (answered before Express, see hot-routes.ts) with the behaviour of the Express stack it
 * replaced, in the same order: security headers, CORS (OPTIONS preflight answered 204),
 * no-store, the per-IP `api` rate limit (counted before the body is read), the 16kb form body
 * on POST (Express's own parser), then the token checks.
 *
 * `trust` is the Express application's compiled `trust proxy` function, so the client IP the
 * limit keys on is Express's req.ip.
 */
export function userinfoRoute(ctx: AppContext, security: RequestHandler, trust: TrustProxy): HotRoute {
  const realm = ctx.config.issuer;
  const base = captureHeaders(security, { ...CORS_HEADERS, 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  const preflight = captureHeaders(security, { ...CORS_HEADERS, ...CORS_PREFLIGHT_HEADERS });
  const limit = new PerIpLimit(ctx.config.rateLimit.api, ctx.config.rateLimit.windowSeconds);
  const form = express.urlencoded({ extended: false, limit: '16kb' }) as unknown as (
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ) => void;
  const readForm = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve, reject) => form(req, res, (err) => (err ? reject(err) : resolve())));

  /** Writes the whole response: the fixed headers, the request's own, then the body's. */
  function send(res: ServerResponse, status: number, own: Record<string, string>, body?: unknown): void {
    const headers: OutgoingHttpHeaders = { ...base, ...own };
    if (body === undefined) {
      headers['Content-Length'] = '0';
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    headers['Content-Type'] = JSON_TYPE;
    headers['Content-Length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
  }

  /** The claims, or the OAuthError that answers the request. */
  async function claimsFor(token: string) {
    const { account, claims } = await ctx.accessTokens.validate(token, { load: 'account', scope: 'openid' }).catch((err: unknown) => {
      throw err instanceof AccessTokenRejected ? REFUSALS[err.reason]() : err;
    });
    return buildClaims(account, claims.scope);
  }

  async function handle(req: FormRequest, res: ServerResponse): Promise<void> {
    const { headers: own, limited } = await limit.hit(clientIp(req, trust));
    if (limited) {
      send(res, 429, own, oauthErrorBody(new OAuthError('temporarily_unavailable', 'Too many requests. Retry later.', 429)).body);
      return;
    }
    try {
      if (req.method === 'POST') await readForm(req, res);
      const token = bearerToken(req);
      if (!token) {
        // RFC 6750 §3.1: no error information when the request has no authentication at all;
        // the challenge alone tells the client to send a Bearer token.
        send(res, 401, { ...own, 'WWW-Authenticate': challenge(realm) });
        return;
      }
      send(res, 200, own, await claimsFor(token));
    } catch (err) {
      if (err instanceof InvalidToken || err instanceof InsufficientScope) own['WWW-Authenticate'] = challenge(realm, err);
      const { status, body } = oauthErrorBody(err);
      if (status >= 500) ctx.log.error('userinfo failed', err, loggedRequest(req));
      send(res, status, own, body);
    }
  }

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      ctx.log.error('userinfo failed', err, loggedRequest(req));
      if (!res.headersSent) send(res, 500, {}, oauthErrorBody(err).body);
      else res.destroy();
    });
  };

  return {
    path: '/oauth2/userinfo',
    methods: {
      GET: answer,
      POST: answer,
      OPTIONS: (_req, res) => {
        res.writeHead(204, preflight);
        res.end();
      },
    },
  };
}
