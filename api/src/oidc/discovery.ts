import { GRANTABLE_SCOPES, SUPPORTED_CLAIMS, type DiscoveryDocument } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import type { StaticDocument } from '../http/hot-routes.js';
import { SIGNING_ALGS } from './tokens/keystore.js';

/** OpenID Provider metadata: exactly what is implemented, nothing more. */
export function discoveryDocument(issuer: string): DiscoveryDocument {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    userinfo_endpoint: `${issuer}/oauth2/userinfo`,
    jwks_uri: `${issuer}/oauth2/jwks`,
    end_session_endpoint: `${issuer}/oauth2/end_session`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: GRANTABLE_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: SIGNING_ALGS,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: [...SUPPORTED_CLAIMS, 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr', 'idp'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/** Headers of the public documents: cacheable, readable cross-origin. */
const PUBLIC_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'public, max-age=300',
};

/**
 * Discovery and JWKS, serialized once: they only change with a restart (issuer, keys). They
 * are answered before the Express application (app.ts), with its security headers.
 */
export function publicDocuments(ctx: AppContext): StaticDocument[] {
  return [
    {
      path: '/.well-known/openid-configuration',
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(discoveryDocument(ctx.config.issuer)),
      headers: PUBLIC_HEADERS,
    },
    { path: '/oauth2/jwks', contentType: 'application/jwk-set+json; charset=utf-8', body: ctx.keys.jwksJson, headers: PUBLIC_HEADERS },
  ];
}
