import { SessionView, SignInResult, type LoginRequest, type MfaRequest } from '@gatehouse/shared';
import { ApiFailure, Nothing, call } from './client';

/** The signed-in session, or null when nobody is signed in. */
export async function getSession(): Promise<SessionView | null> {
  try {
    return await call(SessionView, 'GET', '/api/v1/session');
  } catch (err) {
    if (err instanceof ApiFailure && err.code === 'unauthenticated') return null;
    throw err;
  }
}

/** Portal sign-in: signed in, or `mfa_required` when the user has a second factor. */
export const signIn = (body: LoginRequest) => call(SignInResult, 'POST', '/api/v1/session', body);
/** The portal sign-in's second step. */
export const submitSignInMfa = (body: MfaRequest) => call(SignInResult, 'POST', '/api/v1/session/mfa', body);
export const signOut = () => call(Nothing, 'POST', '/api/v1/session/logout');

export type { SignInResult };
