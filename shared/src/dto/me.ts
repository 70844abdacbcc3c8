import { z } from 'zod';
import { TotpCode } from './mfa.js';
import { displayText } from './text.js';

/** `GET /api/v1/me`: the caller's profile. */
export const Profile = z.object({
  id: z.string(),
  username: z.string(),
  name: z.string().nullable(),
  nickname: z.string().nullable(),
  email: z.string().nullable(),
  emailVerified: z.boolean(),
  isAdmin: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Profile = z.infer<typeof Profile>;

const optionalText = (max: number) => displayText(max).nullable().optional();

/** `PATCH /api/v1/me`: changing the email marks it unverified. Empty text clears a field. */
export const UpdateProfileRequest = z
  .object({
    name: optionalText(128),
    nickname: optionalText(64),
    email: z.email('Enter a valid email address').max(254).nullable().optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'Change at least one field');
export type UpdateProfileRequest = z.input<typeof UpdateProfileRequest>;

/** A password someone chooses: long enough to resist guessing; argon2id does the rest. */
export const NewPassword = z.string().min(12, 'Use at least 12 characters').max(1024);

/** `POST /api/v1/me/password`: the current password, and a current code when two-factor is on. */
export const ChangePasswordRequest = z
  .object({
    currentPassword: z.string().min(1, 'Enter your current password').max(1024),
    newPassword: NewPassword,
    code: TotpCode.optional(),
  })
  .strict();
export type ChangePasswordRequest = z.input<typeof ChangePasswordRequest>;

/** One signed-in browser of the caller. */
export const SessionSummary = z.object({
  id: z.string(),
  /** The session this request was made with. */
  current: z.boolean(),
  createdAt: z.number().int(),
  lastSeenAt: z.number().int(),
  expiresAt: z.number().int(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  amr: z.array(z.string()),
});
export type SessionSummary = z.infer<typeof SessionSummary>;
export const SessionList = z.object({ sessions: z.array(SessionSummary) });
export type SessionList = z.infer<typeof SessionList>;

/** An application the caller approved. */
export const ConnectedApp = z.object({
  clientId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  grantedAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
});
export type ConnectedApp = z.infer<typeof ConnectedApp>;
export const ConnectedAppList = z.object({ apps: z.array(ConnectedApp) });
export type ConnectedAppList = z.infer<typeof ConnectedAppList>;
