import express, { Router, type Request, type Response } from 'express';
import { compactVerify, decodeJwt, type JWTPayload } from 'jose';
import type { AppContext } from '../context.js';
import { noStore } from '../http/no-store.js';
import { singleValued } from '../http/validate.js';
import type { PerIpLimit } from '../http/rate-limit.js';
import { InvalidRequest, OAuthError } from './errors.js';
import { errorPageHandler, sendErrorPage } from './authorize/error-page.js';

/**
 * Where the browser goes after signing out. A post-logout redirect URI must be registered, by
 * exact match, for the client that asks (OIDC RP-Initiated Logout 1.0 §3); without one the
 * browser lands on Gatehouse's own signed-out page.
 */
export async function postLogoutTarget(
  ctx: AppContext,
  clientId: string | undefined,
  uri: string | undefined,
  state: string | undefined,
): Promise<string> {
  if (uri === undefined) return `${ctx.config.issuer}/signed-out`;
  const client = clientId ? await ctx.storage.clients.find(clientId) : undefined;
  if (!client) throw new InvalidRequest('post_logout_redirect_uri needs the client_id (or id_token_hint) of a registered application.');
  if (!client.postLogoutRedirectUris.includes(uri)) {
    throw new InvalidRequest('The post_logout_redirect_uri is not registered for this application.');
  }
  if (state === undefined) return uri;
  return `${uri}${uri.includes('?') ? '&' : '?'}${new URLSearchParams({ state })}`;
}

/** An ID token we signed, expired or not: the hint only names the client and the session. */
async function verifyHint(ctx: AppContext, token: string): Promise<JWTPayload> {
  try {
    const { protectedHeader } = await compactVerify(token, async (header) => {
      const key = ctx.keys.verifier(header.kid);
      if (!key || key.alg !== header.alg) throw new Error('unknown key');
      return key.publicKey;
    });
    const claims = decodeJwt(token);
    if (claims.iss !== ctx.config.issuer || protectedHeader.typ === 'at+jwt') throw new Error('not our ID token');
    return claims;
  } catch {
    throw new InvalidRequest('id_token_hint is not an ID token issued by Gatehouse.');
  }
}

const SIGN_OUT_ERROR = 'This sign-out request cannot continue';

/**
 * The end-session endpoint (OIDC RP-Initiated Logout 1.0). With an id_token_hint naming this
 * browser's session the sign-out happens at once; otherwise the person is asked first (a
 * cross-site link must not sign anyone out), on the SPA's /logout screen.
 */
export function endSessionRouter(ctx: AppContext, budget: PerIpLimit): Router {
  const router = Router();
  router.use(
    '/oauth2/end_session',
    noStore,
    budget.middleware((_req, res) =>
      sendErrorPage(res, new OAuthError('temporarily_unavailable', 'Too many requests. Retry later.', 429), 'Too many sign-out requests'),
    ),
  );
  const handle = async (req: Request, res: Response) => {
    try {
      const { values, repeated } = singleValued(req.method === 'POST' ? req.body : req.query);
      if (repeated) throw new InvalidRequest(`${repeated} was given more than once.`);
      const hint = values.id_token_hint ? await verifyHint(ctx, values.id_token_hint) : undefined;
      const audiences = hint ? (Array.isArray(hint.aud) ? hint.aud : [hint.aud]) : [];
      if (hint && values.client_id && !audiences.includes(values.client_id)) {
        throw new InvalidRequest('client_id does not match the id_token_hint.');
      }
      const clientId = values.client_id ?? (typeof audiences[0] === 'string' ? audiences[0] : undefined);
      const target = await postLogoutTarget(ctx, clientId, values.post_logout_redirect_uri, values.state);

      const session = await ctx.sessions.current(req);
      if (!session) return res.redirect(303, target);
      if (hint && hint.sid === session.id && hint.sub === session.userId) {
        await ctx.sessions.signOut(req, res);
        await ctx.audit.record(
          { event: 'logout', userId: session.userId, clientId: clientId ?? null, ip: req.ip ?? null, detail: { via: 'rp' } },
          ctx.clock.now(),
        );
        return res.redirect(303, target);
      }
      const confirm = new URLSearchParams();
      if (clientId) confirm.set('client_id', clientId);
      if (values.post_logout_redirect_uri) confirm.set('post_logout_redirect_uri', values.post_logout_redirect_uri);
      if (values.state !== undefined) confirm.set('state', values.state);
      res.redirect(303, `${ctx.config.issuer}/logout?${confirm}`);
    } catch (err) {
      if (!(err instanceof InvalidRequest)) throw err;
      sendErrorPage(res, err, SIGN_OUT_ERROR);
    }
  };
  router.get('/oauth2/end_session', handle);
  router.post('/oauth2/end_session', express.urlencoded({ extended: false, limit: '16kb' }), handle);
  router.use('/oauth2/end_session', errorPageHandler(ctx.log, SIGN_OUT_ERROR));
  return router;
}
