import { SessionView, type LoginRequest } from '@gatehouse/shared';
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

export const signIn = (body: LoginRequest) => call(SessionView, 'POST', '/api/v1/session', body);
export const signOut = () => call(Nothing, 'POST', '/api/v1/session/logout');
