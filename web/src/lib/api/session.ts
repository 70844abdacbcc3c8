import {
  Capabilities,
  LogoutResult,
  SessionView,
  type LogoutRequest,
  SignInResult,
  type LoginRequest,
  type MfaRequest,
} from '@gatehouse/shared';
import { ApiFailure, call } from './client';

/** The signed-in session, or null when nobody is signed in. */
export async function getSession(): Promise<SessionView | null> {
  try {
    return await call(SessionView, 'GET', '/api/v1/session');
  } catch (err) {
    if (err instanceof ApiFailure && err.code === 'unauthenticated') return null;
    throw err;
  }
}

/**
 * What this Gatehouse offers (`GET /api/v1/capabilities`, public), for screens shown before
 * sign-in completes; null when it cannot be told, and callers then keep their defaults.
 */
export async function getCapabilities(): Promise<Capabilities | null> {
  try {
    return await call(Capabilities, 'GET', '/api/v1/capabilities');
  } catch {
    return null;
  }
}

/** Portal sign-in: signed in, or `mfa_required` when the user has a second factor. */
export const signIn = (body: LoginRequest) => call(SignInResult, 'POST', '/api/v1/session', body);
/** The portal sign-in's second step. */
export const submitSignInMfa = (body: MfaRequest) => call(SignInResult, 'POST', '/api/v1/session/mfa', body);
/** Signs this browser out; answers where to go next (an application's page when it asked). */
export const signOut = (body: LogoutRequest = {}) => call(LogoutResult, 'POST', '/api/v1/session/logout', body);

export type { Capabilities, SignInResult };
