import {
  AdminUpstream,
  AdminUpstreamList,
  UpstreamLinkList,
  type CreateUpstreamRequest,
  type UpdateUpstreamRequest,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/** Upstream identity providers, for administrators. Upstreams from configuration are read-only. */

const upstreams = '/api/v1/admin/upstreams';
const upstream = (id: string) => `${upstreams}/${encodeURIComponent(id)}`;
const userLinks = (userId: string) => `/api/v1/admin/users/${encodeURIComponent(userId)}/upstreams`;

export const listUpstreams = () => call(AdminUpstreamList, 'GET', upstreams);
export const createUpstream = (body: CreateUpstreamRequest) => call(AdminUpstream, 'POST', upstreams, body);
export const getUpstream = (id: string) => call(AdminUpstream, 'GET', upstream(id));
/** Without `client_secret` the stored secret stays; `null` removes it. */
export const updateUpstream = (id: string, body: UpdateUpstreamRequest) => call(AdminUpstream, 'PATCH', upstream(id), body);
export const deleteUpstream = (id: string) => call(Nothing, 'DELETE', upstream(id));

/** A user's linked sign-ins. */
export const listUserLinks = (userId: string) => call(UpstreamLinkList, 'GET', userLinks(userId));
export const removeUserLink = (userId: string, upstreamId: string) =>
  call(Nothing, 'DELETE', `${userLinks(userId)}/${encodeURIComponent(upstreamId)}`);

export type { AdminUpstream };
