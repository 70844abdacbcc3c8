import { z } from 'zod';

/** The signed-in browser session (`GET /api/v1/session`). */
export const SessionView = z.object({
  user: z.object({
    id: z.string(),
    username: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    isAdmin: z.boolean(),
  }),
  authTime: z.number().int(),
  expiresAt: z.number().int(),
});
export type SessionView = z.infer<typeof SessionView>;

/** `POST /api/v1/session`: signed in, or a second factor is needed first. */
export const SignInResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('signed_in'), session: SessionView }),
  z.object({ status: z.literal('mfa_required') }),
]);
export type SignInResult = z.infer<typeof SignInResult>;
