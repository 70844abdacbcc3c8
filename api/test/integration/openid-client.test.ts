import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Agent, setGlobalDispatcher } from 'undici';
import { ConfigSchema } from '../../src/config/schema.js';
import { hashPassword } from '../../src/identity/passwords.js';
import { silentLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { FetchBrowser } from '../helpers/fetch-browser.js';
import { freePort } from '../helpers/harness.js';

// The server restarts mid-test; pooled keep-alive sockets to the old one would be stale.
setGlobalDispatcher(new Agent({ pipelining: 0 }));

const SECRET = 'integration-client-secret-0123456789abcdef';
const PASSWORD = 'bob-password-12345';

/**
 * openid-client, a relying party nobody here wrote, against a real Gatehouse on a real port
 * and a real SQLite file: discovery, code + PKCE, ID token validation, userinfo, refresh.
 */
describe('openid-client as the relying party', () => {
  let dataDir: string;
  let port: number;
  let issuer: string;
  let server: RunningServer;

  const start = async () => {
    const config = ConfigSchema.parse({
      port,
      host: '127.0.0.1',
      issuer,
      dataDir,
      adminPassword: 'admin-password-123',
      // No grace, so the reuse of a rotated refresh token is caught at once.
      ttl: { refreshReuseGrace: 0 },
      clients: [
        {
          client_id: 'web',
          client_secret: SECRET,
          name: 'Web app',
          redirect_uris: [`http://127.0.0.1:${port + 1}/cb`],
          consent: 'explicit',
        },
        { client_id: 'spa', type: 'public', name: 'SPA', redirect_uris: [`http://127.0.0.1:${port + 1}/spa`], consent: 'implicit' },
      ],
    });
    return startServer(config, { auditSink: () => {}, logger: silentLogger });
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-it-'));
    port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    server = await start();
    await server.ctx.storage.users.insert(
      {
        id: 'user-bob',
        username: 'bob',
        email: 'bob@example.org',
        emailVerified: true,
        name: 'Bob',
        nickname: null,
        passwordHash: await hashPassword(PASSWORD),
        isAdmin: false,
        disabled: false,
      },
      server.ctx.clock.now(),
    );
    await server.ctx.storage.users.addToGroups('user-bob', ['developers'], () => 'group-dev');
  });
  after(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const discover = (clientId: string, auth: oidc.ClientAuth, secret?: string) =>
    oidc.discovery(new URL(issuer), clientId, secret, auth, { execute: [oidc.allowInsecureRequests] });

  async function codeFlow(config: oidc.Configuration, redirectUri: string, scope: string) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new FetchBrowser(issuer).completeAuthorization(url, 'bob', PASSWORD);
    return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  }

  it('completes code + PKCE as a confidential client, then userinfo and refresh', async () => {
    const config = await discover('web', oidc.ClientSecretBasic(SECRET));
    const tokens = await codeFlow(config, `http://127.0.0.1:${port + 1}/cb`, 'openid profile email groups offline_access');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, 'user-bob');
    assert.equal(claims.email, 'bob@example.org');
    assert.deepEqual(claims.groups, ['developers']);

    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const verified = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: 'web' });
    assert.equal(verified.payload.sub, 'user-bob');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'user-bob');
    assert.equal(info.preferred_username, 'bob');
    assert.deepEqual(info.groups, ['developers']);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims()!.sub, 'user-bob');
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  it('completes code + PKCE as a public client', async () => {
    const config = await discover('spa', oidc.None());
    const tokens = await codeFlow(config, `http://127.0.0.1:${port + 1}/spa`, 'openid email');
    assert.equal(tokens.claims()!.sub, 'user-bob');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'user-bob');
    assert.deepEqual(info, { sub: 'user-bob', email: 'bob@example.org', email_verified: true });
  });

  it('loses nothing on a restart in the middle of a sign-in, and tokens outlive the restart', async () => {
    const config = await discover('web', oidc.ClientSecretBasic(SECRET));
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `http://127.0.0.1:${port + 1}/cb`,
      scope: 'openid offline_access',
      state: 'restart',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new FetchBrowser(issuer);
    const loginScreen = await browser.redirect(url.href);
    assert.equal(loginScreen.pathname, '/login');

    await server.stop();
    server = await start();

    const callback = await browser.continueFrom(loginScreen, 'bob', PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'restart' });
    assert.equal(tokens.claims()!.sub, 'user-bob');

    await server.stop();
    server = await start();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(refreshed.claims()!.sub, 'user-bob');
  });
});
