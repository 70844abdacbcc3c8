import * as oidc from 'openid-client';
import type { Upstream, UpstreamSettings } from './registry.js';
import { scopesOf } from './registry.js';

/**
 * Gatehouse as a strict relying party of an upstream (openid-client): authorization code with
 * PKCE S256, `state` and `nonce` checked, RFC 9207 `iss` checked when the upstream advertises
 * it, and the ID token's signature verified against the upstream's JWKS along with its `iss`,
 * `aud`, `azp`, `exp` and `nonce`. GitHub is plain OAuth 2.0: its user comes from its API.
 */

/** Why a sign-in at an upstream failed; `reason` goes to the audit trail, `message` to the person. */
export class UpstreamFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

const unreachable = () =>
  new UpstreamFailure('unreachable', 'The identity provider could not be reached. Try again in a minute, or sign in another way.');

/** Where a preset's discovery lives, when the registration names no issuer. */
function issuerOf(s: UpstreamSettings): string {
  if (s.issuer) return s.issuer.replace(/\/+$/, '');
  if (s.type === 'google') return 'https://accounts.google.com';
  if (s.type === 'gitlab') return 'https://gitlab.com';
  if (s.type === 'microsoft') return `https://login.microsoftonline.com/${s.tenant}/v2.0`;
  if (s.type === 'github') return 'https://github.com';
  throw new Error(`upstream ${s.id} has no issuer`);
}

/** The issuer an upstream identity is keyed by, with its subject. */
export const linkIssuer = (s: UpstreamSettings): string => issuerOf(s);

async function fetchJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch {
    throw unreachable();
  }
  if (!response.ok) throw new UpstreamFailure('discovery_failed', 'The identity provider answered with an error. Try again later.');
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UpstreamFailure('discovery_failed', 'The identity provider sent an unreadable answer. Try again later.');
  }
  return body as Record<string, unknown>;
}

/** The upstream's metadata: discovered (OIDC), or the GitHub endpoints; with the registration's overrides. */
async function serverMetadata(s: UpstreamSettings, timeoutMs: number): Promise<oidc.ServerMetadata> {
  const issuer = issuerOf(s);
  const overrides = {
    ...(s.authorization_endpoint && { authorization_endpoint: s.authorization_endpoint }),
    ...(s.token_endpoint && { token_endpoint: s.token_endpoint }),
    ...(s.userinfo_endpoint && { userinfo_endpoint: s.userinfo_endpoint }),
    ...(s.jwks_uri && { jwks_uri: s.jwks_uri }),
  };
  if (s.type === 'github') {
    return {
      issuer,
      authorization_endpoint: 'https://github.com/login/oauth/authorize',
      token_endpoint: 'https://github.com/login/oauth/access_token',
      userinfo_endpoint: 'https://api.github.com/user',
      ...overrides,
    };
  }
  const discovered = await fetchJson(s.discovery_url ?? `${issuer}/.well-known/openid-configuration`, timeoutMs);
  // OIDC Discovery §4.3: the issuer in the document must be the one it was fetched for.
  if (discovered.issuer !== issuer) {
    throw new UpstreamFailure('discovery_failed', 'The identity provider is not the one configured (its issuer differs).');
  }
  return { ...(discovered as oidc.ServerMetadata), ...overrides };
}

const isHttp = (m: oidc.ServerMetadata) =>
  [m.issuer, m.authorization_endpoint, m.token_endpoint, m.userinfo_endpoint, m.jwks_uri].some((u) => u?.startsWith('http:'));

/** How Gatehouse authenticates to the upstream's token endpoint. */
function clientAuth(secret: string | undefined, m: oidc.ServerMetadata): oidc.ClientAuth {
  if (secret === undefined) return oidc.None();
  const methods = m.token_endpoint_auth_methods_supported;
  return !methods || methods.includes('client_secret_basic') ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
}

const DISCOVERY_TTL = 3600;

/** openid-client configurations, one per upstream, kept for an hour (a failed discovery is not kept). */
export class RelyingParties {
  /** Per registry entry: the registry makes new entries on every reload, so a changed upstream is discovered again. */
  private readonly cache = new WeakMap<Upstream, { at: number; config: Promise<oidc.Configuration> }>();

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  configuration(upstream: Upstream): Promise<oidc.Configuration> {
    const hit = this.cache.get(upstream);
    if (hit && this.now() - hit.at < DISCOVERY_TTL) return hit.config;
    const config = this.build(upstream);
    this.cache.set(upstream, { at: this.now(), config });
    config.catch(() => this.cache.delete(upstream));
    return config;
  }

  private async build(upstream: Upstream): Promise<oidc.Configuration> {
    const s = upstream.settings;
    const metadata = await serverMetadata(s, this.timeoutMs);
    const config = new oidc.Configuration(
      metadata,
      s.client_id,
      upstream.secret === undefined ? undefined : { client_secret: upstream.secret },
      clientAuth(upstream.secret, metadata),
    );
    if (isHttp(metadata)) oidc.allowInsecureRequests(config);
    const timeoutMs = this.timeoutMs;
    config[oidc.customFetch] = (url, options) => fetch(url, { ...options, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
    // Verify the ID token's signature too, not only trust the TLS channel it came over.
    if (s.type !== 'github') oidc.enableNonRepudiationChecks(config);
    return config;
  }
}

/** The secrets a sign-in at an upstream keeps server-side until the callback. */
export interface FlowSecrets {
  codeVerifier: string;
  nonce: string;
}

export async function authorizationUrl(
  config: oidc.Configuration,
  upstream: Upstream,
  redirectUri: string,
  state: string,
  secrets: FlowSecrets,
  loginHint?: string,
): Promise<string> {
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: scopesOf(upstream.settings).join(' '),
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
    code_challenge_method: 'S256',
  };
  if (upstream.settings.type !== 'github') params.nonce = secrets.nonce;
  if (loginHint) params.login_hint = loginHint;
  return oidc.buildAuthorizationUrl(config, params).href;
}

/** What the upstream said about the person: the verified ID token's claims, with userinfo's added. */
export interface UpstreamAnswer {
  claims: Record<string, unknown>;
  accessToken: string;
}

/** Maps what openid-client refused to a reason for the audit trail and a message for the person. */
function failureOf(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    if (err.error === 'access_denied') return new UpstreamFailure('access_denied', 'The sign-in was cancelled at the identity provider.');
    return new UpstreamFailure(`upstream_${err.error}`, 'The identity provider refused the sign-in.');
  }
  if (err instanceof oidc.ResponseBodyError) {
    return new UpstreamFailure('token_error', 'The identity provider refused to complete the sign-in.');
  }
  const e = err as { code?: string; name?: string; cause?: { claim?: string; attribute?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || err instanceof TypeError) return unreachable();
  const bad = (reason: string) => new UpstreamFailure(reason, 'The answer from the identity provider could not be verified.');
  if (e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return bad(`${e.cause?.claim ?? 'claim'}_mismatch`);
  if (e.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return bad(`${e.cause?.attribute ?? 'parameter'}_mismatch`);
  if (e.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return bad('token_expired');
  if (e.code === 'OAUTH_KEY_SELECTION_FAILED' || /signature/i.test((err as Error).message ?? '')) return bad('invalid_signature');
  if (e.code === 'OAUTH_INVALID_RESPONSE' && /"iss"/.test((err as Error).message ?? '')) return bad('iss_mismatch');
  return bad('invalid_response');
}

/**
 * Redeems the callback: its `state` and (RFC 9207) `iss` checked, the code exchanged with the
 * PKCE verifier, the ID token verified with the nonce, and userinfo fetched for the same subject.
 */
export async function redeem(
  config: oidc.Configuration,
  upstream: Upstream,
  callbackUrl: URL,
  redirectUri: string,
  state: string,
  secrets: FlowSecrets,
): Promise<UpstreamAnswer> {
  try {
    const github = upstream.settings.type === 'github';
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: secrets.codeVerifier, expectedState: state, ...(github ? {} : { expectedNonce: secrets.nonce }) },
      { redirect_uri: redirectUri },
    );
    if (github) return { claims: {}, accessToken: tokens.access_token };
    const idClaims = tokens.claims();
    if (!idClaims) throw new UpstreamFailure('no_id_token', 'The identity provider did not say who signed in.');
    const claims: Record<string, unknown> = { ...idClaims };
    if (config.serverMetadata().userinfo_endpoint) {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      // The ID token is what was verified: userinfo only adds what it left out.
      for (const [k, v] of Object.entries(userinfo)) if (!(k in claims)) claims[k] = v;
    }
    return { claims, accessToken: tokens.access_token };
  } catch (err) {
    throw failureOf(err);
  }
}
