import {
  AdminUser,
  AdminUserList,
  CreateUserRequest,
  CreatedUser,
  PasswordLink,
  UpdateUserRequest,
  UserListQuery,
} from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { DirectoryUser } from '../identity/provider.js';
import { cutOff } from '../session/cut-off.js';
import { auditAdmin, directoryError, resolveUser } from './admin-actions.js';
import { issuePasswordLink } from './password-links.js';
import type { Principal } from './principal.js';
import { requireBrowserSession } from './require-fresh-session.js';
import type { RestRoutes } from './route.js';

const toAdminUser = (u: DirectoryUser): AdminUser => ({ ...u, groups: u.groups.map((g) => ({ id: g.id, name: g.name })) });

/**
 * Admin API for user accounts (reads need admin:read, changes admin:write). `:user` is an id
 * or an exact, case-insensitive username, never a partial match.
 *   GET    /api/v1/admin/users                      list (?q= on username, name, email; paged)
 *   POST   /api/v1/admin/users                      create; without a password the answer has a password link
 *   GET    /api/v1/admin/users/:user                one
 *   PATCH  /api/v1/admin/users/:user                change
 *   POST   /api/v1/admin/users/:user/disable        disable: ends their sessions and revokes their tokens
 *   POST   /api/v1/admin/users/:user/enable         enable
 *   DELETE /api/v1/admin/users/:user                delete
 *   POST   /api/v1/admin/users/:user/password-link  a one-time link to set a password
 *   POST   /api/v1/admin/users/:user/reset-totp     turn off their two-factor authentication
 * Admins cannot disable, demote or delete themselves, and the last enabled admin stays.
 */
export function adminUserRoutes(ctx: AppContext, routes: RestRoutes): void {
  const directory = ctx.identity.directory;

  function notSelf(principal: Principal, user: DirectoryUser, what: string): void {
    if (user.id === principal.user.id) throw new ApiError('conflict', 409, `You cannot ${what} your own account; ask another admin.`);
  }

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/users',
      summary: 'List users',
      scope: 'admin:read',
      query: UserListQuery,
      response: AdminUserList,
    },
    async ({ query }) => {
      const { users, total } = await directory.listUsers({ search: query.q || undefined, limit: query.limit, offset: query.offset });
      return { users: users.map(toAdminUser), total, limit: query.limit, offset: query.offset };
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/users',
      summary: 'Create a user',
      scope: 'admin:write',
      body: CreateUserRequest,
      response: CreatedUser,
      status: 201,
    },
    async ({ req, principal, body }) => {
      const user = await directory
        .createUser({
          username: body.username,
          email: body.email ?? null,
          name: body.name || null,
          password: body.password ?? null,
          isAdmin: body.isAdmin,
          groupIds: body.groups,
        })
        .catch((err: unknown) => {
          throw directoryError(err, 'groups');
        });
      await auditAdmin(ctx, req, principal, {
        event: 'user_create',
        userId: user.id,
        detail: { username: user.username, admin: user.isAdmin, groups: user.groups.map((g) => g.name).join(' ') },
      });
      if (body.password !== undefined) return { user: toAdminUser(user) };
      const passwordLink = await issuePasswordLink(ctx, user.id, principal.user.id);
      await auditAdmin(ctx, req, principal, {
        event: 'password_link_create',
        userId: user.id,
        detail: { expiresAt: passwordLink.expiresAt },
      });
      return { user: toAdminUser(user), passwordLink };
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/users/:user', summary: 'One user', scope: 'admin:read', response: AdminUser },
    async ({ req }) => toAdminUser(await resolveUser(ctx, req.params.user)),
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/admin/users/:user',
      summary: 'Change a user',
      scope: 'admin:write',
      body: UpdateUserRequest,
      response: AdminUser,
    },
    async ({ req, principal, body }) => {
      const user = await resolveUser(ctx, req.params.user);
      if (body.isAdmin === false && user.id === principal.user.id) {
        throw new ApiError('conflict', 409, 'You cannot take away your own admin rights; ask another admin.');
      }
      const updated = await directory.updateUser(user.id, body).catch((err: unknown) => {
        throw directoryError(err, 'user');
      });
      if (!updated) throw ApiError.notFound('No such user.');
      const fields = Object.entries(body)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k);
      await auditAdmin(ctx, req, principal, {
        event: 'user_update',
        userId: user.id,
        detail: {
          fields: fields.join(' '),
          ...(body.isAdmin !== undefined && { admin: body.isAdmin }),
          ...(updated.username !== user.username && { from: user.username, to: updated.username }),
        },
      });
      return toAdminUser(updated);
    },
  );

  routes.add(
    { method: 'post', path: '/api/v1/admin/users/:user/disable', summary: 'Disable a user', scope: 'admin:write' },
    async ({ req, principal }) => {
      const user = await resolveUser(ctx, req.params.user);
      notSelf(principal, user, 'disable');
      const found = await directory.setDisabled(user.id, true).catch((err: unknown) => {
        throw directoryError(err, 'user');
      });
      if (!found) throw ApiError.notFound('No such user.');
      await cutOff(ctx, user.id, null);
      await auditAdmin(ctx, req, principal, { event: 'user_disable', userId: user.id, detail: { username: user.username } });
    },
  );

  routes.add(
    { method: 'post', path: '/api/v1/admin/users/:user/enable', summary: 'Enable a user', scope: 'admin:write' },
    async ({ req, principal }) => {
      const user = await resolveUser(ctx, req.params.user);
      if (!(await directory.setDisabled(user.id, false))) throw ApiError.notFound('No such user.');
      await auditAdmin(ctx, req, principal, { event: 'user_enable', userId: user.id, detail: { username: user.username } });
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/users/:user', summary: 'Delete a user', scope: 'admin:write' },
    async ({ req, principal }) => {
      const user = await resolveUser(ctx, req.params.user);
      notSelf(principal, user, 'delete');
      const found = await directory.deleteUser(user.id).catch((err: unknown) => {
        throw directoryError(err, 'user');
      });
      if (!found) throw ApiError.notFound('No such user.');
      await auditAdmin(ctx, req, principal, { event: 'user_delete', userId: user.id, detail: { username: user.username } });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/users/:user/password-link',
      summary: 'Create a one-time link to set a password',
      scope: 'admin:write',
      response: PasswordLink,
      status: 201,
    },
    async ({ req, principal }) => {
      const user = await resolveUser(ctx, req.params.user);
      if (user.disabled) throw new ApiError('conflict', 409, `${user.username} is disabled; enable the account first.`);
      const link = await issuePasswordLink(ctx, user.id, principal.user.id);
      await auditAdmin(ctx, req, principal, { event: 'password_link_create', userId: user.id, detail: { expiresAt: link.expiresAt } });
      return link;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/users/:user/reset-totp',
      summary: "Turn off a user's two-factor authentication",
      scope: 'admin:write',
    },
    async (call) => {
      const { req, principal } = call;
      // A leaked admin token must not strip second factors: only an admin at a browser may.
      await requireBrowserSession(ctx, call, 'totp_reset');
      const user = await resolveUser(ctx, req.params.user);
      if (!user.totpEnabled) throw new ApiError('conflict', 409, `${user.username} has no two-factor authentication to reset.`);
      await ctx.identity.mfa.disableTotp(user.id);
      await auditAdmin(ctx, req, principal, { event: 'totp_reset', userId: user.id, detail: { username: user.username } });
    },
  );
}
