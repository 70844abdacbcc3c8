import { AdminClient, AdminClientList, ClientWithSecret, type CreateClientRequest, type UpdateClientRequest } from '@gatehouse/shared';
import { Nothing, call } from './client';

/** Applications (OIDC clients), for administrators. Clients from configuration are read-only. */

const clients = '/api/v1/admin/clients';
const client = (id: string) => `${clients}/${encodeURIComponent(id)}`;

export const listClients = () => call(AdminClientList, 'GET', clients);
/** A confidential client's generated secret is in the answer: the only time it is shown. */
export const createClient = (body: CreateClientRequest) => call(ClientWithSecret, 'POST', clients, body);
export const getClient = (id: string) => call(AdminClient, 'GET', client(id));
/** Switching to confidential answers a new secret, shown once; switching to public drops it. */
export const updateClient = (id: string, body: UpdateClientRequest) => call(ClientWithSecret, 'PATCH', client(id), body);
export const deleteClient = (id: string) => call(Nothing, 'DELETE', client(id));
/** A new secret, shown once; the old one stops working at once. */
export const rotateClientSecret = (id: string) => call(ClientWithSecret, 'POST', `${client(id)}/secret`);

export type { AdminClient, ClientWithSecret };
