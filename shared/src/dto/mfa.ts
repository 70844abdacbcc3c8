import { z } from 'zod';

/** A 6-digit TOTP code; spaces people type from their app are ignored. */
export const TotpCode = z
  .string()
  .transform((s) => s.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app'));

/** A recovery code as shown to the user (xxxx-xxxx-xxxx-xxxx); case and dashes are ignored. */
export const RecoveryCode = z
  .string()
  .transform((s) => s.replace(/[\s-]+/g, '').toUpperCase())
  .pipe(z.string().regex(/^[A-Z2-7]{16}$/, 'Enter a recovery code like ABCD-EFGH-IJKL-MNOP'));

/** The second step of a sign-in: a current TOTP code or one recovery code. */
export const MfaRequest = z.union([z.object({ code: TotpCode }).strict(), z.object({ recoveryCode: RecoveryCode }).strict()]);
export type MfaRequest = z.input<typeof MfaRequest>;

/** `GET /api/v1/me/mfa`. */
export const MfaStatus = z.object({
  totp: z.object({ enabled: z.boolean(), recoveryCodesLeft: z.number().int().min(0) }),
});
export type MfaStatus = z.infer<typeof MfaStatus>;

/** A new TOTP secret, shown until enrolment is confirmed with a code. */
export const TotpEnrolment = z.object({
  /** Base32 secret for typing in by hand. */
  secret: z.string(),
  otpauthUri: z.string(),
  /** The otpauth URI as an SVG QR code, as a data: URI. */
  qrCode: z.string().startsWith('data:image/svg+xml'),
});
export type TotpEnrolment = z.infer<typeof TotpEnrolment>;

/** The current password, for a change to a second factor long after signing in. */
const CurrentPassword = z.string().min(1).max(1024);

/**
 * `POST /api/v1/me/mfa/totp`. The password is needed only when the session signed in longer ago
 * than the re-authentication window (the API answers `reauthentication_required`).
 */
export const StartTotpRequest = z.object({ password: CurrentPassword.optional() });
export type StartTotpRequest = z.input<typeof StartTotpRequest>;

/**
 * `POST /api/v1/me/mfa/totp/confirm`: the first code from the app. No password, however long
 * setting up the app took: starting the enrolment took the recent sign-in.
 */
export const ConfirmTotpRequest = z.object({ code: TotpCode });
export type ConfirmTotpRequest = z.input<typeof ConfirmTotpRequest>;

/** Recovery codes, shown once. */
/** Ten single-use codes; none on a backend without recovery codes (OpenBao). */
export const RecoveryCodes = z.object({ recoveryCodes: z.union([z.array(z.string()).length(10), z.array(z.string()).length(0)]) });
export type RecoveryCodes = z.infer<typeof RecoveryCodes>;

/** Disabling TOTP or regenerating recovery codes needs the password and a current code. */
export const ReauthenticateRequest = z.object({ password: CurrentPassword, code: TotpCode });
export type ReauthenticateRequest = z.input<typeof ReauthenticateRequest>;
