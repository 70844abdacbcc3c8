import {
  ConnectedAppList,
  Profile,
  SessionList,
  type ChangePasswordRequest,
  type ConnectedApp,
  type SessionSummary,
  type UpdateProfileRequest,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/** The signed-in user's own account (cookie session; the client adds the CSRF header). */
export const getProfile = () => call(Profile, 'GET', '/api/v1/me');
/** Changing the email marks it unverified; `409 conflict` when it belongs to someone else. */
export const updateProfile = (body: UpdateProfileRequest) => call(Profile, 'PATCH', '/api/v1/me', body);
/** Needs a current code when two-factor is on; signs out every other session. */
export const changePassword = (body: ChangePasswordRequest) => call(Nothing, 'POST', '/api/v1/me/password', body);

export const listSessions = () => call(SessionList, 'GET', '/api/v1/me/sessions');
export const endSession = (id: string) => call(Nothing, 'DELETE', `/api/v1/me/sessions/${encodeURIComponent(id)}`);
/** Signs out every session but this one. */
export const endOtherSessions = () => call(Nothing, 'DELETE', '/api/v1/me/sessions');

export const listConnectedApps = () => call(ConnectedAppList, 'GET', '/api/v1/me/apps');
/** Removes the consent and revokes the app's tokens. */
export const revokeConnectedApp = (clientId: string) => call(Nothing, 'DELETE', `/api/v1/me/apps/${encodeURIComponent(clientId)}`);

export type { ConnectedApp, Profile, SessionSummary };
