import { z } from 'zod';
import { GRANTABLE_SCOPES, SUPPORTED_SCOPES } from '../oidc/scopes.js';
import { displayText } from './text.js';
import { httpsOnly, urlWith } from './url.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI a client may register: absolute, no fragment (RFC 6749 §3.1.2), and https
 * unless it points at loopback or uses a private-use scheme of a native app (RFC 8252 §7).
 */
export const RedirectUri = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' });
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must use https (http is allowed only for loopback)' });
  }
  if (['javascript:', 'data:', 'file:', 'vbscript:'].includes(url.protocol)) {
    ctx.addIssue({ code: 'custom', message: `scheme ${url.protocol} is not allowed` });
  }
});

/** A group's name, as the `groups` claim carries it. */
export const GroupName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'Use 1-64 letters, digits, dots, dashes or underscores');

/** An application's logo, shown on the consent screen: https only. */
export const LogoUri = urlWith([httpsOnly]);

export const ClientType = z.enum(['public', 'confidential']);
export type ClientType = z.infer<typeof ClientType>;
export const ConsentMode = z.enum(['explicit', 'implicit']);
export const TokenEndpointAuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export type TokenEndpointAuthMethod = z.infer<typeof TokenEndpointAuthMethod>;
export const SigningAlg = z.enum(['RS256', 'ES256']);
export type SigningAlg = z.infer<typeof SigningAlg>;
export const GrantType = z.enum(['authorization_code', 'refresh_token']);

/** Client secrets are compared by SHA-256, so they must carry enough entropy of their own. */
export const CLIENT_SECRET_MIN_LENGTH = 32;

/**
 * A client registration as written in configuration (`GATEHOUSE_CLIENTS`) or given to the CLI.
 * Exactly one of `client_secret` and `client_secret_hash` (`sha256:<hex>`) for confidential clients.
 */
export const ClientRegistration = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 URL-safe characters'),
    client_secret: z.string().min(CLIENT_SECRET_MIN_LENGTH).max(512).optional(),
    client_secret_hash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>')
      .optional(),
    name: displayText(128).min(1),
    type: ClientType.default('confidential'),
    redirect_uris: z.array(RedirectUri).min(1),
    post_logout_redirect_uris: z.array(RedirectUri).default([]),
    consent: ConsentMode.default('explicit'),
    /** Allowed scopes: all OIDC ones by default; REST API scopes (profile:read …) only when listed. */
    scopes: z.array(z.enum(GRANTABLE_SCOPES as [string, ...string[]])).default([...SUPPORTED_SCOPES]),
    grant_types: z.array(GrantType).min(1).default(['authorization_code', 'refresh_token']),
    token_endpoint_auth_method: TokenEndpointAuthMethod.optional(),
    id_token_signed_response_alg: SigningAlg.default('RS256'),
    /** Sign-ins to this client need a second factor; users without one enrol first. */
    require_mfa: z.boolean().default(false),
    logo_uri: LogoUri.optional(),
    /** Only members of these groups (direct or inherited) may sign in; empty means everyone. */
    allowed_groups: z.array(GroupName).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const secrets = Number(Boolean(c.client_secret)) + Number(Boolean(c.client_secret_hash));
    if (c.type === 'public') {
      if (secrets > 0) ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'a public client has no secret' });
      if (c.token_endpoint_auth_method && c.token_endpoint_auth_method !== 'none') {
        ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: 'a public client must use none' });
      }
    } else {
      if (secrets !== 1) {
        ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'give exactly one of client_secret and client_secret_hash' });
      }
      if (c.token_endpoint_auth_method === 'none') {
        ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: 'a confidential client must authenticate' });
      }
    }
    if (!c.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
    if (!c.grant_types.includes('authorization_code')) {
      ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'must include authorization_code' });
    }
  })
  .transform((c) => ({
    ...c,
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? (c.type === 'public' ? 'none' : 'client_secret_basic'),
  }));
export type ClientRegistrationInput = z.input<typeof ClientRegistration>;
export type ClientRegistration = z.output<typeof ClientRegistration>;
