import { ApiTokenList, CreatedApiToken, type ApiTokenSummary, type CreateApiTokenRequest } from '@gatehouse/shared';
import { Nothing, call } from './client';

/** The signed-in user's personal API tokens (cookie session; the client adds the CSRF header). */
export const listTokens = () => call(ApiTokenList, 'GET', '/api/v1/me/tokens');
/** Answers the token itself: the only time it is shown. */
export const createToken = (body: CreateApiTokenRequest) => call(CreatedApiToken, 'POST', '/api/v1/me/tokens', body);
export const revokeToken = (id: string) => call(Nothing, 'DELETE', `/api/v1/me/tokens/${encodeURIComponent(id)}`);

export type { ApiTokenSummary, CreatedApiToken };
