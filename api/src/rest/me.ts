import { z } from 'zod';
import {
  ChangePasswordRequest,
  ConnectedAppList,
  Profile,
  SessionList,
  UpdateProfileRequest,
  type Profile as ProfileView,
} from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { NotSupported } from '../identity/provider.js';
import { cutOff } from '../session/cut-off.js';
import { reauthenticate } from '../session/sign-in.js';
import type { RestRoutes } from './route.js';

const id = (value: unknown): string => {
  const parsed = z.string().min(1).max(128).safeParse(value);
  if (!parsed.success) throw ApiError.notFound('No such item.');
  return parsed.data;
};

/**
 * The caller's own identity:
 *   GET/PATCH /api/v1/me                 profile (a new email is unverified)
 *   POST      /api/v1/me/password        current password (+ code with two-factor); ends other sessions and tokens
 *   GET       /api/v1/me/sessions        signed-in browsers
 *   DELETE    /api/v1/me/sessions/:id    sign one out;  DELETE /api/v1/me/sessions: all others
 *   GET       /api/v1/me/apps            approved applications
 *   DELETE    /api/v1/me/apps/:clientId  forget the approval and revoke the app's tokens
 */
export function meRoutes(ctx: AppContext, routes: RestRoutes): void {
  async function profile(userId: string): Promise<ProfileView> {
    const u = await ctx.storage.users.findById(userId);
    if (!u) throw ApiError.unauthenticated();
    return {
      id: u.id,
      username: u.username,
      name: u.name,
      nickname: u.nickname,
      email: u.email,
      emailVerified: u.emailVerified,
      isAdmin: u.isAdmin,
      createdAt: u.createdAt,
      updatedAt: u.updatedAt,
    };
  }

  routes.add({ method: 'get', path: '/api/v1/me', summary: 'Your profile', scope: 'profile:read', response: Profile }, ({ principal }) =>
    profile(principal.user.id),
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/me',
      summary: 'Change your profile',
      scope: 'profile:write',
      body: UpdateProfileRequest,
      response: Profile,
    },
    async ({ req, principal, body }) => {
      // Entity metadata in OpenBao is the source of a profile there; Gatehouse only reads it.
      if (!ctx.identity.capabilities.manageUsers) throw new NotSupported('Changing your profile (edit it in OpenBao)');
      const now = ctx.clock.now();
      if (!(await ctx.storage.users.updateProfile(principal.user.id, body, now))) {
        throw new ApiError('conflict', 409, 'That email address belongs to another account.');
      }
      await ctx.audit.record(
        { event: 'profile_update', userId: principal.user.id, ip: req.ip ?? null, detail: { fields: Object.keys(body).join(' ') } },
        now,
      );
      return profile(principal.user.id);
    },
  );

  routes.add(
    { method: 'post', path: '/api/v1/me/password', summary: 'Change your password', scope: 'profile:write', body: ChangePasswordRequest },
    async ({ req, res, principal, body }) => {
      await reauthenticate(ctx, req, res, principal.user, body.currentPassword, body.code, 'password_change');
      await ctx.identity.directory.setPassword(principal.user.id, body.newPassword);
      await cutOff(ctx, principal.user.id, principal.sessionId ?? null);
      await ctx.audit.record(
        { event: 'password_change', userId: principal.user.id, ip: req.ip ?? null, detail: { via: principal.via } },
        ctx.clock.now(),
      );
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/me/sessions', summary: 'Your signed-in browsers', scope: 'profile:read', response: SessionList },
    async ({ principal }) => {
      const sessions = await ctx.storage.sessions.listActive(principal.user.id, ctx.clock.now(), ctx.config.ttl.sessionIdle);
      return {
        sessions: sessions.map((s) => ({
          id: s.id,
          current: s.id === principal.sessionId,
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          expiresAt: s.expiresAt,
          ip: s.ip,
          userAgent: s.userAgent,
          amr: s.amr,
        })),
      };
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/me/sessions/:id', summary: 'Sign out one of your browsers', scope: 'profile:write' },
    async ({ req, principal }) => {
      const session = await ctx.storage.sessions.find(id(req.params.id));
      if (!session || session.userId !== principal.user.id || session.endedAt !== null) throw ApiError.notFound('No such session.');
      const now = ctx.clock.now();
      await ctx.sessions.end(session, now);
      await ctx.audit.record(
        { event: 'session_revoke', userId: principal.user.id, ip: req.ip ?? null, detail: { session: session.id } },
        now,
      );
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/me/sessions', summary: 'Sign out all your other browsers', scope: 'profile:write' },
    async ({ req, principal }) => {
      const now = ctx.clock.now();
      await ctx.sessions.endAllExcept(principal.user.id, principal.sessionId ?? null, now);
      await ctx.audit.record(
        { event: 'session_revoke', userId: principal.user.id, ip: req.ip ?? null, detail: { session: 'all-others' } },
        now,
      );
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/me/apps', summary: 'Applications you approved', scope: 'profile:read', response: ConnectedAppList },
    async ({ principal }) => ({ apps: await ctx.storage.consents.listForUser(principal.user.id) }),
  );

  routes.add(
    { method: 'delete', path: '/api/v1/me/apps/:clientId', summary: 'Revoke an application', scope: 'profile:write' },
    async ({ req, principal }) => {
      const clientId = id(req.params.clientId);
      const now = ctx.clock.now();
      if (!(await ctx.storage.consents.revoke(principal.user.id, clientId, now)))
        throw ApiError.notFound('You have not approved that application.');
      await ctx.audit.record({ event: 'consent_revoke', userId: principal.user.id, clientId, ip: req.ip ?? null }, now);
    },
  );
}
