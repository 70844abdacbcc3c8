import { z } from 'zod';

const param = (max: number) => z.string().min(1).max(max);

/**
 * Parameters of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3).
 * Only shapes are checked here; the authorize pipeline applies the protocol rules in order,
 * because which error is returned (and whether it may be redirected) depends on that order.
 */
export const AuthorizeParams = z.object({
  client_id: param(255),
  redirect_uri: param(2048),
  response_type: param(255).optional(),
  response_mode: param(64).optional(),
  scope: param(2048).optional(),
  state: param(2048).optional(),
  nonce: param(512).optional(),
  prompt: param(255).optional(),
  max_age: z
    .string()
    .regex(/^\d{1,10}$/, 'max_age must be a non-negative integer')
    .optional(),
  login_hint: param(255).optional(),
  /** Gatehouse extension: sign in straight at this upstream identity provider (federation). */
  idp_hint: param(64).optional(),
  code_challenge: param(255).optional(),
  code_challenge_method: param(32).optional(),
  request: z.string().optional(),
  request_uri: z.string().optional(),
  registration: z.string().optional(),
});
export type AuthorizeParams = z.infer<typeof AuthorizeParams>;

export const AuthorizationCodeGrant = z.object({
  grant_type: z.literal('authorization_code'),
  code: param(512),
  redirect_uri: param(2048),
  code_verifier: z
    .string()
    .regex(/^[A-Za-z0-9\-._~]{43,128}$/, 'code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)')
    .optional(),
});
export type AuthorizationCodeGrant = z.infer<typeof AuthorizationCodeGrant>;

export const RefreshTokenGrant = z.object({
  grant_type: z.literal('refresh_token'),
  refresh_token: param(512),
  scope: param(2048).optional(),
});
export type RefreshTokenGrant = z.infer<typeof RefreshTokenGrant>;

/** Successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
  scope: z.string(),
  id_token: z.string().optional(),
  refresh_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** Error response of the token, userinfo and other OAuth endpoints (RFC 6749 §5.2). */
export const OAuthErrorBody = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});
export type OAuthErrorBody = z.infer<typeof OAuthErrorBody>;
