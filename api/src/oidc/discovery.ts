import { Router, type Response } from 'express';
import { SUPPORTED_CLAIMS, SUPPORTED_SCOPES, type DiscoveryDocument } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { SIGNING_ALGS } from './tokens/keystore.js';

/** OpenID Provider metadata: exactly what is implemented, nothing more. */
export function discoveryDocument(issuer: string): DiscoveryDocument {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    userinfo_endpoint: `${issuer}/oauth2/userinfo`,
    jwks_uri: `${issuer}/oauth2/jwks`,
    scopes_supported: SUPPORTED_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: SIGNING_ALGS,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: [...SUPPORTED_CLAIMS, 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/** Discovery and JWKS: public, cacheable, readable cross-origin; bodies serialized once. */
export function discoveryRouter(ctx: AppContext): Router {
  const router = Router();
  const discovery = JSON.stringify(discoveryDocument(ctx.config.issuer));
  const publicJson = (body: string, type: string) => (_req: unknown, res: Response) => {
    res
      .set('Access-Control-Allow-Origin', '*')
      .set('Cross-Origin-Resource-Policy', 'cross-origin')
      .set('Cache-Control', 'public, max-age=300')
      .type(type)
      .send(body);
  };
  router.get('/.well-known/openid-configuration', publicJson(discovery, 'application/json'));
  router.get('/oauth2/jwks', publicJson(ctx.keys.jwksJson, 'application/jwk-set+json'));
  return router;
}
