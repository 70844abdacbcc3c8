import { InteractionNext, InteractionView, type LoginRequest } from '@gatehouse/shared';
import { call } from './client';

const base = (id: string) => `/api/v1/interactions/${encodeURIComponent(id)}`;

export const getInteraction = (id: string) => call(InteractionView, 'GET', base(id));
export const submitLogin = (id: string, body: LoginRequest) => call(InteractionNext, 'POST', `${base(id)}/login`, body);
export const submitConsent = (id: string, approve: boolean) => call(InteractionNext, 'POST', `${base(id)}/consent`, { approve });
export const abortInteraction = (id: string) => call(InteractionNext, 'POST', `${base(id)}/abort`);

export type { InteractionView, InteractionNext };