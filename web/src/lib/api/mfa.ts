import { MfaStatus, RecoveryCodes, TotpEnrolment, type ReauthenticateRequest } from '@gatehouse/shared';
import { Nothing, call } from './client';

/** The signed-in user's second factors (cookie session; the client adds the CSRF header). */
export const getMfaStatus = () => call(MfaStatus, 'GET', '/api/v1/me/mfa');
/** A new TOTP secret with its QR code; enrolment is pending until confirmed with a code. */
export const startTotpEnrolment = () => call(TotpEnrolment, 'POST', '/api/v1/me/mfa/totp');
/** Finishes enrolment with a current code; answers the recovery codes (shown once), or none when the backend has none. */
export const confirmTotpEnrolment = (code: string) => call(RecoveryCodes, 'POST', '/api/v1/me/mfa/totp/confirm', { code });
export const disableTotp = (body: ReauthenticateRequest) => call(Nothing, 'POST', '/api/v1/me/mfa/totp/disable', body);
/** Replaces every recovery code; the old ones stop working. */
export const regenerateRecoveryCodes = (body: ReauthenticateRequest) => call(RecoveryCodes, 'POST', '/api/v1/me/mfa/recovery-codes', body);

export type { MfaStatus, RecoveryCodes, TotpEnrolment };
