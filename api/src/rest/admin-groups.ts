import { AdminGroup, AdminGroupList, CreateGroupRequest, GroupMemberList, UpdateGroupRequest } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { DirectoryGroup } from '../identity/provider.js';
import { auditAdmin, directoryError, pathRef, resolveUser } from './admin-actions.js';
import type { RestRoutes } from './route.js';

const toAdminGroup = (g: DirectoryGroup): AdminGroup => ({ ...g, parents: g.parents.map((p) => ({ id: p.id, name: p.name })) });

/**
 * Admin API for groups (reads need admin:read, changes admin:write). Groups nest: the members
 * of a group are members of its parents too, and the groups claim carries them all.
 *   GET    /api/v1/admin/groups                          list
 *   POST   /api/v1/admin/groups                          create
 *   GET    /api/v1/admin/groups/:id                      one
 *   PATCH  /api/v1/admin/groups/:id                      rename (clients' policies follow), re-describe, re-nest
 *   DELETE /api/v1/admin/groups/:id                      delete, unless an application's access policy names it
 *   GET    /api/v1/admin/groups/:id/members              direct members
 *   PUT    /api/v1/admin/groups/:id/members/:userId      add a member
 *   DELETE /api/v1/admin/groups/:id/members/:userId      remove a member
 */
export function adminGroupRoutes(ctx: AppContext, routes: RestRoutes): void {
  const directory = ctx.identity.directory;

  async function group(value: unknown): Promise<DirectoryGroup> {
    const parsed = pathRef.safeParse(value);
    const found = parsed.success ? await directory.getGroup(parsed.data) : undefined;
    if (!found) throw ApiError.notFound('No such group.');
    return found;
  }

  routes.add(
    { method: 'get', path: '/api/v1/admin/groups', summary: 'List groups', scope: 'admin:read', response: AdminGroupList },
    async () => ({ groups: (await directory.listGroups()).map(toAdminGroup) }),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/groups',
      summary: 'Create a group',
      scope: 'admin:write',
      body: CreateGroupRequest,
      response: AdminGroup,
      status: 201,
    },
    async ({ req, principal, body }) => {
      const created = await directory
        .createGroup({ name: body.name, description: body.description || null, requireMfa: body.requireMfa, parentIds: body.parents })
        .catch((err: unknown) => {
          throw directoryError(err, 'parents');
        });
      await auditAdmin(ctx, req, principal, {
        event: 'group_create',
        detail: {
          group: created.id,
          name: created.name,
          requireMfa: created.requireMfa,
          parents: created.parents.map((p) => p.name).join(' '),
        },
      });
      return toAdminGroup(created);
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/groups/:id', summary: 'One group', scope: 'admin:read', response: AdminGroup },
    async ({ req }) => toAdminGroup(await group(req.params.id)),
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/admin/groups/:id',
      summary: 'Change a group',
      scope: 'admin:write',
      body: UpdateGroupRequest,
      response: AdminGroup,
    },
    async ({ req, principal, body }) => {
      const current = await group(req.params.id);
      const updated = await directory
        .updateGroup(current.id, {
          ...(body.name !== undefined && { name: body.name }),
          ...(body.description !== undefined && { description: body.description || null }),
          ...(body.requireMfa !== undefined && { requireMfa: body.requireMfa }),
          ...(body.parents !== undefined && { parentIds: body.parents }),
        })
        .catch((err: unknown) => {
          throw directoryError(err, 'parents');
        });
      if (!updated) throw ApiError.notFound('No such group.');
      await auditAdmin(ctx, req, principal, {
        event: 'group_update',
        detail: {
          group: current.id,
          name: updated.name,
          fields: Object.entries(body)
            .filter(([, v]) => v !== undefined)
            .map(([k]) => k)
            .join(' '),
          ...(updated.name !== current.name && { from: current.name }),
          ...(body.parents !== undefined && { parents: updated.parents.map((p) => p.name).join(' ') }),
        },
      });
      return toAdminGroup(updated);
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/groups/:id', summary: 'Delete a group', scope: 'admin:write' },
    async ({ req, principal }) => {
      const current = await group(req.params.id);
      const deleted = await directory.deleteGroup(current.id).catch((err: unknown) => {
        throw directoryError(err, 'id');
      });
      if (!deleted) throw ApiError.notFound('No such group.');
      await auditAdmin(ctx, req, principal, { event: 'group_delete', detail: { group: current.id, name: current.name } });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/groups/:id/members',
      summary: 'Direct members of a group',
      scope: 'admin:read',
      response: GroupMemberList,
    },
    async ({ req }) => ({ members: await directory.listMembers((await group(req.params.id)).id) }),
  );

  routes.add(
    { method: 'put', path: '/api/v1/admin/groups/:id/members/:userId', summary: 'Add a member to a group', scope: 'admin:write' },
    async ({ req, principal }) => {
      const g = await group(req.params.id);
      const u = await resolveUser(ctx, req.params.userId);
      if (!(await directory.addMember(g.id, u.id))) throw ApiError.notFound('No such group or user.');
      await auditAdmin(ctx, req, principal, { event: 'group_member_add', userId: u.id, detail: { group: g.id, name: g.name } });
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/groups/:id/members/:userId', summary: 'Remove a member from a group', scope: 'admin:write' },
    async ({ req, principal }) => {
      const g = await group(req.params.id);
      const u = await resolveUser(ctx, req.params.userId);
      if (!(await directory.removeMember(g.id, u.id))) throw ApiError.notFound('No such group or user.');
      await auditAdmin(ctx, req, principal, { event: 'group_member_remove', userId: u.id, detail: { group: g.id, name: g.name } });
    },
  );
}
