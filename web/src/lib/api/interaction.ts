import { InteractionNext, InteractionView, type LoginRequest, type MfaRequest } from '@gatehouse/shared';
import { call } from './client';

const base = (id: string) => `/api/v1/interactions/${encodeURIComponent(id)}`;

export const getInteraction = (id: string) => call(InteractionView, 'GET', base(id));
export const submitLogin = (id: string, body: LoginRequest) => call(InteractionNext, 'POST', `${base(id)}/login`, body);
/** The second factor: `{ code }` (TOTP) or `{ recoveryCode }`. */
export const submitMfa = (id: string, body: MfaRequest) => call(InteractionNext, 'POST', `${base(id)}/mfa`, body);
/** Goes on with the request after the user enrolled a second factor. */
export const continueInteraction = (id: string) => call(InteractionNext, 'POST', `${base(id)}/continue`);
export const submitConsent = (id: string, approve: boolean) => call(InteractionNext, 'POST', `${base(id)}/consent`, { approve });
export const abortInteraction = (id: string) => call(InteractionNext, 'POST', `${base(id)}/abort`);

export type { InteractionView, InteractionNext };
