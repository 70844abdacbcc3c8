import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { freePort } from './ports.js';

export interface RelyingParty {
  url: string;
  redirectUri: string;
  stop(): Promise<void>;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
}

/**
 * A tiny web application that signs people in through Gatehouse with openid-client
 * (code + PKCE, confidential client) and shows the claims it received.
 *   GET /login  → redirect to Gatehouse (with its `scope` and `idp_hint` query parameters)
 *   GET /cb      → code exchange, ID token validation, userinfo; shows sub, email, groups, and the ID token's idp and amr
 *   GET /refresh → uses the refresh token it got (rotating it); shows `refreshed` or the error
 *   GET /logout  → RP-initiated logout with its ID token as hint, back to /bye
 */
export async function startRelyingParty(issuer: string, clientId: string, clientSecret: string, port?: number): Promise<RelyingParty> {
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const redirectUri = `${url}/cb`;
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
    execute: [oidc.allowInsecureRequests],
  });
  const pending = new Map<string, Pending>();
  /** Refresh and ID tokens by the browser's rp_flow cookie, for /refresh and /logout. */
  const refreshTokens = new Map<string, string>();
  const idTokens = new Map<string, string>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const current = new URL(req.url ?? '/', url);
    if (current.pathname === '/login') {
      const p: Pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const id = randomBytes(16).toString('hex');
      pending.set(id, p);
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: current.searchParams.get('scope') ?? 'openid profile email groups',
        state: p.state,
        nonce: p.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(p.verifier),
        code_challenge_method: 'S256',
        ...(current.searchParams.has('idp_hint') && { idp_hint: current.searchParams.get('idp_hint')! }),
      });
      res.writeHead(302, { location: target.href, 'set-cookie': `rp_flow=${id}; Path=/; HttpOnly; SameSite=Lax` });
      res.end();
      return;
    }
    if (current.pathname === '/cb') {
      const id = /rp_flow=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
      const p = id ? pending.get(id) : undefined;
      if (!p) return page(res, 400, 'No sign-in in progress', '');
      pending.delete(id!);
      try {
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: p.verifier,
          expectedState: p.state,
          expectedNonce: p.nonce,
        });
        const claims = tokens.claims()!;
        if (tokens.refresh_token) refreshTokens.set(id!, tokens.refresh_token);
        if (tokens.id_token) idTokens.set(id!, tokens.id_token);
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        return page(
          res,
          200,
          'Signed in to the test app',
          `<p>sub: <output id="sub">${escape(claims.sub)}</output></p>` +
            `<p>email: <output id="email">${escape(String(info.email ?? ''))}</output></p>` +
            `<p>groups: <output id="groups">${escape(JSON.stringify(info.groups ?? []))}</output></p>` +
            `<p>idp: <output id="idp">${escape(String(claims.idp ?? ''))}</output></p>` +
            `<p>amr: <output id="amr">${escape(JSON.stringify(claims.amr ?? []))}</output></p>`,
        );
      } catch (err) {
        const code = err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError ? err.error : 'rp_error';
        return page(res, 400, 'Sign-in failed', `<p>error: <output id="error">${escape(code)}</output></p>`);
      }
    }
    if (current.pathname === '/logout') {
      const id = /rp_flow=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
      const idToken = id ? idTokens.get(id) : undefined;
      const target = oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: `${url}/bye`,
        state: 'bye-state',
        ...(idToken && { id_token_hint: idToken }),
      });
      res.writeHead(302, { location: target.href });
      res.end();
      return;
    }
    if (current.pathname === '/bye') {
      return page(
        res,
        200,
        'Signed out of the test app',
        `<p>state: <output id="state">${escape(current.searchParams.get('state') ?? '')}</output></p>`,
      );
    }
    if (current.pathname === '/refresh') {
      const id = /rp_flow=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
      const refreshToken = id ? refreshTokens.get(id) : undefined;
      if (!refreshToken) return page(res, 400, 'No refresh token', '');
      try {
        const tokens = await oidc.refreshTokenGrant(config, refreshToken);
        if (tokens.refresh_token) refreshTokens.set(id!, tokens.refresh_token);
        return page(res, 200, 'Refreshed', '<p>result: <output id="refresh">refreshed</output></p>');
      } catch (err) {
        const code = err instanceof oidc.ResponseBodyError ? err.error : 'rp_error';
        return page(res, 400, 'Refresh failed', `<p>result: <output id="refresh">${escape(code)}</output></p>`);
      }
    }
    page(res, 200, 'Test app', '<a href="/login">Sign in with Gatehouse</a>');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => page(res, 500, 'RP failure', `<pre>${escape(String(err))}</pre>`));
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    url,
    redirectUri,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
