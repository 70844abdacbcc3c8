import { z } from 'zod';

/** What this Gatehouse offers, which depends on its identity backend; the SPA hides the rest. */
export const Capabilities = z.object({
  identityBackend: z.enum(['sqlite', 'openbao']),
  /** Users and groups are managed in Gatehouse (admin screens, invitations, sign-up). */
  manageUsers: z.boolean(),
  recoveryCodes: z.boolean(),
  /** People may sign in with their email address as well as their username. */
  emailLogin: z.boolean(),
  /** Wrapped OpenBao tokens for the signed-in user. */
  backendTokens: z.boolean(),
  /** Sign-in with upstream identity providers and linking of upstream identities to accounts. */
  federation: z.boolean(),
});
export type Capabilities = z.infer<typeof Capabilities>;

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
  capabilities: Capabilities,
});
export type SessionView = z.infer<typeof SessionView>;

/** `POST /api/v1/session`: signed in, or a second factor is needed first. */
export const SignInResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('signed_in'), session: SessionView }),
  z.object({ status: z.literal('mfa_required') }),
]);
export type SignInResult = z.infer<typeof SignInResult>;

/**
 * `POST /api/v1/session/logout`: sign this browser out. When an application asked for the
 * sign-out (RP-initiated logout), its client id, registered post-logout URI and state come along.
 */
export const LogoutRequest = z
  .object({
    clientId: z.string().max(255).optional(),
    postLogoutRedirectUri: z.string().max(2048).optional(),
    state: z.string().max(2048).optional(),
  })
  .strict();
export type LogoutRequest = z.infer<typeof LogoutRequest>;

/** Where the browser goes after signing out: the application's page, or Gatehouse's. */
export const LogoutResult = z.object({ location: z.string() });
export type LogoutResult = z.infer<typeof LogoutResult>;
