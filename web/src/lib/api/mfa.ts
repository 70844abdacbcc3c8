import {
  MfaStatus,
  RecoveryCodes,
  TotpEnrolment,
  type ConfirmTotpRequest,
  type ReauthenticateRequest,
  type StartTotpRequest,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/** The signed-in user's second factors (cookie session; the client adds the CSRF header). */
export const getMfaStatus = () => call(MfaStatus, 'GET', '/api/v1/me/mfa');
/**
 * A new TOTP secret with its QR code; enrolment is pending until confirmed with a code. A session
 * that signed in a while ago is answered `reauthentication_required`: then send the password.
 */
export const startTotpEnrolment = (password?: string) =>
  call(TotpEnrolment, 'POST', '/api/v1/me/mfa/totp', (password === undefined ? {} : { password }) satisfies StartTotpRequest);
/**
 * Finishes enrolment with a current code; answers the recovery codes (shown once), or none when the
 * backend has none. Never asks for the password: starting did.
 */
export const confirmTotpEnrolment = (code: string) =>
  call(RecoveryCodes, 'POST', '/api/v1/me/mfa/totp/confirm', { code } satisfies ConfirmTotpRequest);
export const disableTotp = (body: ReauthenticateRequest) => call(Nothing, 'POST', '/api/v1/me/mfa/totp/disable', body);
/** Replaces every recovery code; the old ones stop working. */
export const regenerateRecoveryCodes = (body: ReauthenticateRequest) => call(RecoveryCodes, 'POST', '/api/v1/me/mfa/recovery-codes', body);

export type { MfaStatus, RecoveryCodes, TotpEnrolment };
