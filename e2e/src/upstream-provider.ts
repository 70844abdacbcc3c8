import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Account } from 'oidc-provider';
import { freePort } from './ports.js';

/** What the upstream says about a person: its userinfo claims (the ID token has `sub` alone). */
export interface UpstreamClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  groups?: string[];
}

export interface UpstreamProvider {
  /** Its issuer, http on loopback. */
  issuer: string;
  /** Sets the claims of the person who signs in with this login name (any other name gets defaults). */
  account(login: string, claims: UpstreamClaims): void;
  stop(): Promise<void>;
}

/** The claims of a login name nobody configured: its name, an e-mail the upstream did not verify. */
const defaults = (login: string): UpstreamClaims => ({
  preferred_username: login,
  name: login,
  email: `${login}@upstream.test`,
  email_verified: false,
  groups: [],
});

/** oidc-provider's notices about its development defaults are expected here: kept out of the test output. */
function quietDevNotices(): () => void {
  /* eslint-disable no-console -- filters what oidc-provider prints, the only way it reports */
  const { warn, info } = console;
  const filter =
    (print: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      print(...args);
    };
  console.warn = filter(warn);
  console.info = filter(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
  /* eslint-enable no-console */
}

/**
 * A real OpenID provider nobody here wrote — node-oidc-provider (panva) — as Gatehouse's
 * upstream: its own development login page (any login name, any password) and consent page,
 * one confidential client (client_secret_basic) with PKCE required, RS256 ID tokens from a key
 * made for this run, plain http on 127.0.0.1.
 */
export async function startUpstreamProvider(options: {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}): Promise<UpstreamProvider> {
  const restoreConsole = quietDevNotices();
  // Imported here, with the notices quiet: it warns at import on a Node.js older than it prefers.
  const { default: Provider } = await import('oidc-provider');
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, UpstreamClaims>();
  const signingKey = {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: randomBytes(8).toString('hex'),
    use: 'sig',
    alg: 'RS256',
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [signingKey] },
    features: { devInteractions: { enabled: true } },
    findAccount(_ctx: unknown, sub: string): Account {
      return { accountId: sub, claims: () => ({ ...defaults(sub), ...accounts.get(sub), sub }) };
    },
  });
  // Its page imports a web font; there is no network here, and the failed load would be a console error.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.type.startsWith('text/html') && typeof ctx.body === 'string') {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);/, '');
    }
  });

  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    account: (login, claims) => void accounts.set(login, claims),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).finally(restoreConsole),
  };
}
