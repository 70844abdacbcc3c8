import {
  AdminGroup,
  AdminGroupList,
  AdminUser,
  AdminUserList,
  AuditPage,
  CreatedUser,
  GroupMemberList,
  PasswordLink,
  type AuditEntry,
  type CreateGroupRequest,
  type CreateUserRequest,
  type GroupMember,
  type GroupRef,
  type UpdateGroupRequest,
  type UpdateUserRequest,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/** The admin API (cookie session of an administrator; the client adds the CSRF header). */

const users = '/api/v1/admin/users';
const groups = '/api/v1/admin/groups';
const user = (ref: string) => `${users}/${encodeURIComponent(ref)}`;
const group = (id: string) => `${groups}/${encodeURIComponent(id)}`;

/** A query string of the given values, leaving out empty ones ("" when none is left). */
function search(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** `q` matches username, name or email. */
export const listUsers = (q: { q?: string; limit?: number; offset?: number }) => call(AdminUserList, 'GET', users + search(q));
/** Without a password, the answer carries a one-time password link, shown once. */
export const createUser = (body: CreateUserRequest) => call(CreatedUser, 'POST', users, body);
/** By id, or by exact username. */
export const getUser = (ref: string) => call(AdminUser, 'GET', user(ref));
export const updateUser = (id: string, body: UpdateUserRequest) => call(AdminUser, 'PATCH', user(id), body);
export const deleteUser = (id: string) => call(Nothing, 'DELETE', user(id));
/** Signs the user out everywhere and refuses their sign-ins until enabled again. */
export const disableUser = (id: string) => call(Nothing, 'POST', `${user(id)}/disable`);
export const enableUser = (id: string) => call(Nothing, 'POST', `${user(id)}/enable`);
/** A one-time link to set a password, shown once. */
export const createPasswordLink = (id: string) => call(PasswordLink, 'POST', `${user(id)}/password-link`);
/** Removes the user's authenticator and recovery codes. */
export const resetTotp = (id: string) => call(Nothing, 'POST', `${user(id)}/reset-totp`);

export const listGroups = () => call(AdminGroupList, 'GET', groups);
export const createGroup = (body: CreateGroupRequest) => call(AdminGroup, 'POST', groups, body);
export const getGroup = (id: string) => call(AdminGroup, 'GET', group(id));
/** `parents` replaces the whole list. */
export const updateGroup = (id: string, body: UpdateGroupRequest) => call(AdminGroup, 'PATCH', group(id), body);
export const deleteGroup = (id: string) => call(Nothing, 'DELETE', group(id));
export const listMembers = (id: string) => call(GroupMemberList, 'GET', `${group(id)}/members`);
export const addMember = (groupId: string, userId: string) =>
  call(Nothing, 'PUT', `${group(groupId)}/members/${encodeURIComponent(userId)}`);
export const removeMember = (groupId: string, userId: string) =>
  call(Nothing, 'DELETE', `${group(groupId)}/members/${encodeURIComponent(userId)}`);

/** Filters of the audit log; times in seconds since the epoch. */
export type AuditFilter = {
  event?: string;
  /** A user id: events about them or done by them. */
  user?: string;
  client?: string;
  outcome?: 'success' | 'failure';
  from?: number;
  to?: number;
  before?: number;
  limit?: number;
};

/** Newest first; pass the page's `nextBefore` as `before` for the next, older page. */
export const listAudit = (q: AuditFilter) => call(AuditPage, 'GET', `/api/v1/admin/audit${search(q)}`);

export type { AdminGroup, AdminUser, AuditEntry, CreatedUser, GroupMember, GroupRef, PasswordLink };
