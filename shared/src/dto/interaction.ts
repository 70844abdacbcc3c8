import { z } from 'zod';

/**
 * The screen a pending authorization request needs next. `denied`: the application's access
 * policy leaves the signed-in user out; the screen explains that and returns to the application.
 */
export const InteractionPrompt = z.enum(['login', 'mfa', 'enrol', 'consent', 'denied']);
export type InteractionPrompt = z.infer<typeof InteractionPrompt>;

/** What the SPA needs to render a pending authorization request (`GET /api/v1/interactions/:id`). */
export const InteractionView = z.object({
  id: z.string(),
  prompt: InteractionPrompt,
  client: z.object({ id: z.string(), name: z.string() }),
  scopes: z.array(z.object({ scope: z.string(), description: z.string() })),
  loginHint: z.string().nullable(),
  /** Set once someone has signed in during this request. */
  user: z.object({ username: z.string(), name: z.string().nullable() }).nullable(),
  expiresAt: z.number().int(),
});
export type InteractionView = z.infer<typeof InteractionView>;

export const LoginRequest = z.object({
  username: z.string().trim().min(1, 'Enter your username or email').max(255),
  password: z.string().min(1, 'Enter your password').max(1024),
  remember: z.boolean().default(false),
});
export type LoginRequest = z.input<typeof LoginRequest>;

export const ConsentDecision = z.object({ approve: z.boolean() });
export type ConsentDecision = z.infer<typeof ConsentDecision>;

/**
 * Every interaction step answers with what comes next: another screen of the same
 * request, or a URL the browser navigates to in order to resume the authorization flow.
 */
export const InteractionNext = z.discriminatedUnion('next', [
  /** A second factor is needed: the TOTP challenge screen. */
  z.object({ next: z.literal('mfa') }),
  /** The application requires a second factor the user has not set up yet. */
  z.object({ next: z.literal('enrol') }),
  z.object({ next: z.literal('consent') }),
  /** The application does not let this user in: the screen that says so. */
  z.object({ next: z.literal('denied') }),
  z.object({ next: z.literal('redirect'), location: z.string() }),
]);
export type InteractionNext = z.infer<typeof InteractionNext>;
