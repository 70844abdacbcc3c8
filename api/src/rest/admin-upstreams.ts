import { AdminUpstream, AdminUpstreamList, CreateUpstreamRequest, UpdateUpstreamRequest, UpstreamLinkList } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { settingsOf, type Upstream } from '../federation/registry.js';
import { ApiError } from '../http/api-error.js';
import { auditAdmin, resolveUser } from './admin-actions.js';
import { linksOf, requireFederation, upstreamIdOf } from './me-upstreams.js';
import type { RestRoutes } from './route.js';

/**
 * Admin API for upstream identity providers (reads need admin:read, changes admin:write):
 *   GET    /api/v1/admin/upstreams                              list
 *   POST   /api/v1/admin/upstreams                              add one
 *   GET    /api/v1/admin/upstreams/:id                          one
 *   PATCH  /api/v1/admin/upstreams/:id                          change (a missing client_secret keeps it, null removes it)
 *   DELETE /api/v1/admin/upstreams/:id                          remove; the links to it stay, unusable until it is back
 *   GET    /api/v1/admin/users/:user/upstreams                  a user's linked sign-ins
 *   DELETE /api/v1/admin/users/:user/upstreams/:upstreamId      remove one of them
 * Upstreams from configuration are read-only here (409 `read_only`). Secrets are stored sealed
 * and never answered (`hasSecret` says whether there is one). On a backend without federation
 * every endpoint answers 501 `not_supported`.
 */
export function adminUpstreamRoutes(ctx: AppContext, routes: RestRoutes): void {
  function found(id: unknown): Upstream {
    const upstream = ctx.upstreams.get(upstreamIdOf(id) ?? '');
    if (!upstream) throw ApiError.notFound('No such identity provider.');
    return upstream;
  }

  function writable(id: unknown): Upstream {
    const upstream = found(id);
    if (upstream.source === 'config') {
      throw new ApiError('read_only', 409, `The identity provider ${upstream.id} is managed in configuration; change it there.`);
    }
    return upstream;
  }

  /** The admin view of an upstream just written (the registry has read it again). */
  async function reloaded(id: string): Promise<AdminUpstream> {
    await ctx.upstreams.reload();
    const upstream = ctx.upstreams.get(id);
    if (!upstream) throw ApiError.notFound('No such identity provider.');
    return ctx.upstreams.toAdminView(upstream);
  }

  const sealed = (secret: string | undefined | null) => (secret ? ctx.box.seal(secret) : null);

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/upstreams',
      summary: 'List identity providers people sign in with',
      scope: 'admin:read',
      response: AdminUpstreamList,
    },
    async () => {
      requireFederation(ctx);
      return { upstreams: ctx.upstreams.list().map((u) => ctx.upstreams.toAdminView(u)) };
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/upstreams',
      summary: 'Add an identity provider',
      scope: 'admin:write',
      body: CreateUpstreamRequest,
      response: AdminUpstream,
      status: 201,
    },
    async ({ req, principal, body }) => {
      requireFederation(ctx);
      const settings = settingsOf(body);
      const inserted = await ctx.storage.upstreams.insert(
        { id: body.id, source: 'admin', settings, sealedSecret: sealed(body.client_secret) },
        ctx.clock.now(),
      );
      if (!inserted) {
        const message = `An identity provider with the id ${body.id} already exists.`;
        throw new ApiError('conflict', 409, message, [{ field: 'id', message }]);
      }
      const view = await reloaded(body.id);
      await auditAdmin(ctx, req, principal, {
        event: 'upstream_create',
        detail: { upstream: view.id, type: view.type, name: view.name },
      });
      return view;
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/upstreams/:id',
      summary: 'Get an identity provider',
      scope: 'admin:read',
      response: AdminUpstream,
    },
    async ({ req }) => {
      requireFederation(ctx);
      return ctx.upstreams.toAdminView(found(req.params.id));
    },
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/admin/upstreams/:id',
      summary: 'Change an identity provider',
      scope: 'admin:write',
      body: UpdateUpstreamRequest,
      response: AdminUpstream,
    },
    async ({ req, principal, body }) => {
      requireFederation(ctx);
      const current = writable(req.params.id);
      const { client_secret: secret, ...changed } = body;
      // The stored settings with the named fields changed; a null one goes back to unset.
      const next = Object.entries({ ...current.settings, ...changed }).filter(([, value]) => value !== null);
      const merged = CreateUpstreamRequest.safeParse(Object.fromEntries(next));
      if (!merged.success) {
        throw ApiError.validation(merged.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
      }
      const stored = await ctx.storage.upstreams.find(current.id);
      const sealedSecret = secret === undefined ? (stored?.sealedSecret ?? null) : sealed(secret);
      const settings = settingsOf(merged.data);
      if (!(await ctx.storage.upstreams.update(current.id, { settings, sealedSecret }, ctx.clock.now()))) {
        throw ApiError.notFound('No such identity provider.');
      }
      const view = await reloaded(current.id);
      await auditAdmin(ctx, req, principal, {
        event: 'upstream_update',
        detail: {
          upstream: current.id,
          fields: Object.keys(changed).join(' '),
          secret: secret === undefined ? 'kept' : secret === null ? 'removed' : 'replaced',
        },
      });
      return view;
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/upstreams/:id', summary: 'Remove an identity provider', scope: 'admin:write' },
    async ({ req, principal }) => {
      requireFederation(ctx);
      const current = writable(req.params.id);
      if (!(await ctx.storage.upstreams.delete(current.id))) throw ApiError.notFound('No such identity provider.');
      await ctx.upstreams.reload();
      await auditAdmin(ctx, req, principal, { event: 'upstream_delete', detail: { upstream: current.id, name: current.settings.name } });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/users/:user/upstreams',
      summary: "A user's linked sign-ins",
      scope: 'admin:read',
      response: UpstreamLinkList,
    },
    async ({ req }) => {
      requireFederation(ctx);
      const user = await resolveUser(ctx, req.params.user);
      return linksOf(ctx, user.id);
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/api/v1/admin/users/:user/upstreams/:upstreamId',
      summary: "Remove one of a user's linked sign-ins",
      scope: 'admin:write',
    },
    async ({ req, principal }) => {
      requireFederation(ctx);
      const user = await resolveUser(ctx, req.params.user);
      const removed = await ctx.storage.upstreams.deleteLink(user.id, upstreamIdOf(req.params.upstreamId) ?? '');
      if (!removed) throw ApiError.notFound('This user has no sign-in with this identity provider.');
      await auditAdmin(ctx, req, principal, {
        event: 'upstream_unlink',
        userId: user.id,
        detail: { upstream: removed.upstreamId, by: 'admin' },
      });
    },
  );
}
