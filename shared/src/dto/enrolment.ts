import { z } from 'zod';
import { Username } from './admin.js';
import { NewPassword } from './me.js';
import { TotpCode, TotpEnrolment } from './mfa.js';
import { displayText } from './text.js';

/**
 * Public endpoints for people without an account yet: accepting an invitation, using a
 * one-time password link, and self-registration when it is turned on. Tokens travel in the
 * body (the SPA reads them from the URL fragment), never in a URL the server logs.
 */

const Token = z.string().min(16).max(128);

/** `POST /api/v1/invitations/lookup` */
export const InvitationLookup = z.object({ token: Token }).strict();
export const InvitationPreview = z.object({
  email: z.string(),
  groups: z.array(z.string()),
  expiresAt: z.number().int(),
  /** A target group requires a second factor: the invitee sets up TOTP with this secret. */
  totp: TotpEnrolment.nullable(),
});
export type InvitationPreview = z.infer<typeof InvitationPreview>;

/** `POST /api/v1/invitations/accept` */
export const AcceptInvitationRequest = z
  .object({
    token: Token,
    username: Username,
    name: displayText(128).nullable().optional(),
    password: NewPassword,
    /** Required when the preview carried a TOTP secret. */
    code: TotpCode.optional(),
  })
  .strict();
export type AcceptInvitationRequest = z.input<typeof AcceptInvitationRequest>;
export const AcceptedInvitation = z.object({
  username: z.string(),
  /** Shown once when TOTP was set up. */
  recoveryCodes: z.array(z.string()).nullable(),
});
export type AcceptedInvitation = z.infer<typeof AcceptedInvitation>;

/** `POST /api/v1/password-link/lookup` */
export const PasswordLinkLookup = z.object({ token: Token }).strict();
export const PasswordLinkPreview = z.object({ username: z.string(), expiresAt: z.number().int() });
export type PasswordLinkPreview = z.infer<typeof PasswordLinkPreview>;
/** `POST /api/v1/password-link`: sets the password, ends the user's sessions. */
export const UsePasswordLinkRequest = z.object({ token: Token, password: NewPassword }).strict();
export type UsePasswordLinkRequest = z.input<typeof UsePasswordLinkRequest>;

/** `GET /api/v1/registration`: whether anyone may create an account. */
export const RegistrationSettings = z.object({ enabled: z.boolean() });
export type RegistrationSettings = z.infer<typeof RegistrationSettings>;
/** `POST /api/v1/registration` (only when enabled) */
export const RegisterRequest = z
  .object({
    username: Username,
    email: z.email('Enter a valid email address').max(254),
    name: displayText(128).nullable().optional(),
    password: NewPassword,
  })
  .strict();
export type RegisterRequest = z.input<typeof RegisterRequest>;
export const Registered = z.object({ username: z.string() });
