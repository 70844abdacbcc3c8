import { z } from 'zod';

/** Stable codes of the JSON API's errors; clients switch on these, never on messages. */
export const API_ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'insufficient_scope',
  'invalid_token',
  'csrf_rejected',
  'not_found',
  'conflict',
  'interaction_expired',
  'invalid_credentials',
  'mfa_failed',
  'mfa_not_enrolled',
  'mfa_already_enrolled',
  'too_many_attempts',
  /** A change to a second factor was asked for with a bearer token; only a browser session may. */
  'session_required',
  /** The session signed in too long ago for this change: send the password (and code) with it. */
  'reauthentication_required',
  'login_required',
  /** The account already has a sign-in with this upstream identity provider. */
  'already_linked',
  /** Removing this would leave the account without a way to sign in. */
  'last_sign_in_method',
  /** Managed in configuration; change it there. */
  'read_only',
  /** An upstream identity provider could not be reached. */
  'upstream_unavailable',
  'rate_limited',
  'unavailable',
  'not_supported',
  'internal_error',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The one shape of every JSON API failure. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
