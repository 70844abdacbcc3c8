import type { Request } from 'express';
import { z } from 'zod';
import type { AuditEvent } from '../audit/events.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { DirectoryConflict, type DirectoryUser } from '../identity/provider.js';
import type { Principal } from './principal.js';

/** A user or group as a path names it: an id, or a user's exact username. */
export const pathRef = z.string().min(1).max(128);

/** The user a path names (id, or exact case-insensitive username), or a 404. */
export async function resolveUser(ctx: AppContext, value: unknown): Promise<DirectoryUser> {
  const parsed = pathRef.safeParse(value);
  const user = parsed.success ? await ctx.identity.directory.resolveUser(parsed.data) : undefined;
  if (!user) throw ApiError.notFound('No such user.');
  return user;
}

const FIELD_OF = { username_taken: 'username', email_taken: 'email', group_name_taken: 'name' } as const;

/**
 * The API error for a refused directory change: taken names, a group in use and the last admin
 * are conflicts (409); unknown groups and nesting cycles are bad input in `field` (400).
 */
export function directoryError(err: unknown, field: string): unknown {
  if (!(err instanceof DirectoryConflict)) return err;
  switch (err.reason) {
    case 'unknown_group':
    case 'group_cycle':
      return ApiError.validation([{ field, message: err.message }], err.message);
    case 'username_taken':
    case 'email_taken':
    case 'group_name_taken':
      return new ApiError('conflict', 409, err.message, [{ field: FIELD_OF[err.reason], message: err.message }]);
    case 'group_in_use':
    case 'last_admin':
      return new ApiError('conflict', 409, err.message);
  }
}

/** Records an admin action: `actorId` is the admin, `userId` the account it was about. */
export function auditAdmin(ctx: AppContext, req: Request, principal: Principal, event: Omit<AuditEvent, 'actorId' | 'ip'>) {
  return ctx.audit.record({ ...event, actorId: principal.user.id, ip: req.ip ?? null }, ctx.clock.now());
}
