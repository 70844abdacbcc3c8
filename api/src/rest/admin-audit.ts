import { AuditPage, AuditQuery } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { RestRoutes } from './route.js';

/**
 * The audit trail for administrators and auditors:
 *   GET /api/v1/admin/audit   newest first; every given filter must match; `before` pages on
 * `user` matches events about that user and events they did as the acting admin.
 */
export function adminAuditRoutes(ctx: AppContext, routes: RestRoutes): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/audit',
      summary: 'Search the audit log',
      scope: 'audit:read',
      query: AuditQuery,
      response: AuditPage,
    },
    async ({ query }) => {
      if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
        throw ApiError.validation([{ field: 'to', message: 'must not be before from' }]);
      }
      const { limit, ...filter } = query;
      // One row more than asked tells whether another page exists.
      const rows = await ctx.storage.audit.list({ ...filter, limit: limit + 1 });
      const events = rows.slice(0, limit);
      return { events, nextBefore: rows.length > limit ? events[events.length - 1]!.id : null };
    },
  );
}
