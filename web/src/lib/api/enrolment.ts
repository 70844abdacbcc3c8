import {
  AcceptedInvitation,
  InvitationPreview,
  PasswordLinkPreview,
  Registered,
  RegistrationSettings,
  type AcceptInvitationRequest,
  type RegisterRequest,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/**
 * Public endpoints for people without an account (or without a password) yet. Tokens come from
 * the page's URL fragment and travel only in request bodies.
 */

/** What an invitation is for; a TOTP secret to set up when a target group requires a second factor. */
export const lookupInvitation = (token: string) => call(InvitationPreview, 'POST', '/api/v1/invitations/lookup', { token });
/** Creates the account; answers recovery codes (shown once) when TOTP was set up. */
export const acceptInvitation = (body: AcceptInvitationRequest) => call(AcceptedInvitation, 'POST', '/api/v1/invitations/accept', body);

export const getRegistration = () => call(RegistrationSettings, 'GET', '/api/v1/registration');
export const register = (body: RegisterRequest) => call(Registered, 'POST', '/api/v1/registration', body);

/** Whose password a one-time link sets, and until when it works. */
export const lookupPasswordLink = (token: string) => call(PasswordLinkPreview, 'POST', '/api/v1/password-link/lookup', { token });
/** Sets the password and ends the user's sessions; the link is used up. */
export const usePasswordLink = (token: string, password: string) => call(Nothing, 'POST', '/api/v1/password-link', { token, password });

export type { AcceptedInvitation, InvitationPreview, PasswordLinkPreview };
