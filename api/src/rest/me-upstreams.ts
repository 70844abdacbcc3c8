import type { RequestHandler } from 'express';
import {
  StartUpstreamLinkRequest,
  UpstreamButtonList,
  UpstreamId,
  UpstreamLinkList,
  UpstreamRedirect,
  type UpstreamLink,
} from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { UpstreamFailure } from '../federation/relying-party.js';
import { startUpstream } from '../federation/start.js';
import { ApiError } from '../http/api-error.js';
import { NotSupported } from '../identity/provider.js';
import type { UpstreamLinkRecord } from '../storage/upstreams.js';
import { requireFreshSession } from './require-fresh-session.js';
import type { RestRoutes } from './route.js';

/** 501 not_supported on a backend that cannot link upstream identities (OpenBao). */
export function requireFederation(ctx: AppContext): void {
  if (!ctx.identity.capabilities.federation) throw new NotSupported('Signing in with another identity provider');
}

/** A user's linked sign-ins, named after their upstream (its id once it is no longer configured). */
export async function linksOf(ctx: AppContext, userId: string): Promise<UpstreamLinkList> {
  const view = (l: UpstreamLinkRecord): UpstreamLink => ({
    upstreamId: l.upstreamId,
    upstreamName: ctx.upstreams.get(l.upstreamId)?.settings.name ?? l.upstreamId,
    subject: l.subject,
    email: l.email,
    createdAt: l.createdAt,
    lastLoginAt: l.lastLoginAt,
  });
  return { links: (await ctx.storage.upstreams.linksOf(userId)).map(view) };
}

/** The upstream id a path names, when it is a valid one. */
export const upstreamIdOf = (value: unknown): string | undefined => UpstreamId.safeParse(value).data;

/**
 * Upstream identity providers for people (federation):
 *   GET    /api/v1/upstreams                the sign-in screen's buttons (public; hidden upstreams left out)
 *   GET    /api/v1/me/upstreams             your linked sign-ins
 *   POST   /api/v1/me/upstreams/:id/link    start linking one: answers the upstream's sign-in page;
 *                                           the link is made when the browser comes back (the callback)
 *   DELETE /api/v1/me/upstreams/:id         remove a link, unless it is your last way to sign in
 * Linking and unlinking need the browser session and a recent sign-in, or the password (and a
 * code) in the body (requireFreshSession), like changes to a second factor: a bearer token is
 * refused with 403 `session_required`. Both are rate limited like sign-in, since they may check
 * a password. On a backend without federation every endpoint answers 501 `not_supported`.
 */
export function meUpstreamRoutes(ctx: AppContext, routes: RestRoutes, attemptLimit: RequestHandler): void {
  routes.addPublic(
    {
      method: 'get',
      path: '/api/v1/upstreams',
      summary: 'The identity providers one may sign in with',
      scope: 'public',
      response: UpstreamButtonList,
    },
    async () => {
      requireFederation(ctx);
      return { upstreams: ctx.upstreams.buttons() };
    },
    // Reads settings the sign-in screen asks for on every visit: the general API limit is enough.
    [],
  );

  routes.add(
    { method: 'get', path: '/api/v1/me/upstreams', summary: 'Your linked sign-ins', scope: 'profile:read', response: UpstreamLinkList },
    async ({ principal }) => {
      requireFederation(ctx);
      return linksOf(ctx, principal.user.id);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/upstreams/:id/link',
      summary: 'Start linking an identity provider to your account',
      scope: 'profile:write',
      body: StartUpstreamLinkRequest,
      response: UpstreamRedirect,
    },
    async (c) => {
      requireFederation(ctx);
      const { req, res, principal, body } = c;
      const id = upstreamIdOf(req.params.id) ?? '';
      const found = ctx.upstreams.get(id);
      const known = () => {
        if (!found) throw ApiError.notFound('No such identity provider.');
        return found;
      };
      await requireFreshSession(ctx, c, 'upstream_link', {
        password: body.password,
        code: body.code,
        detail: { upstream: id },
        async precondition() {
          const upstream = known();
          const links = await ctx.storage.upstreams.linksOf(principal.user.id);
          if (links.some((l) => l.upstreamId === upstream.id)) {
            throw new ApiError('already_linked', 409, `Your account is already linked to ${upstream.settings.name}. Unlink it first.`);
          }
        },
      });
      const upstream = known();
      try {
        return { location: await startUpstream(ctx, req, res, upstream, { purpose: 'link', userId: principal.user.id }) };
      } catch (err) {
        if (!(err instanceof UpstreamFailure)) throw err;
        await ctx.audit.record(
          {
            event: 'upstream_failure',
            outcome: 'failure',
            userId: principal.user.id,
            ip: req.ip ?? null,
            detail: { upstream: upstream.id, reason: err.reason, action: 'upstream_link' },
          },
          ctx.clock.now(),
        );
        throw new ApiError('upstream_unavailable', 502, err.message);
      }
    },
    [attemptLimit],
  );

  routes.add(
    {
      method: 'delete',
      path: '/api/v1/me/upstreams/:id',
      summary: 'Unlink an identity provider from your account',
      scope: 'profile:write',
      body: StartUpstreamLinkRequest,
    },
    async (c) => {
      requireFederation(ctx);
      const { req, principal, body } = c;
      const userId = principal.user.id;
      const id = upstreamIdOf(req.params.id) ?? '';
      await requireFreshSession(ctx, c, 'upstream_unlink', {
        password: body.password,
        code: body.code,
        detail: { upstream: id },
        async precondition() {
          const links = await ctx.storage.upstreams.linksOf(userId);
          if (!links.some((l) => l.upstreamId === id)) throw ApiError.notFound('Your account has no sign-in with this identity provider.');
          // A link to an upstream no longer configured is no way to sign in.
          const others = links.filter((l) => l.upstreamId !== id && ctx.upstreams.get(l.upstreamId));
          if (others.length === 0 && !(await ctx.identity.directory.hasPassword(userId))) {
            throw new ApiError(
              'last_sign_in_method',
              409,
              'This is the only way to sign in to your account. Link another identity provider first, or ask an administrator for a link to set a password.',
            );
          }
        },
      });
      const removed = await ctx.storage.upstreams.deleteLink(userId, id);
      if (!removed) throw ApiError.notFound('Your account has no sign-in with this identity provider.');
      await ctx.audit.record(
        { event: 'upstream_unlink', userId, ip: req.ip ?? null, detail: { upstream: removed.upstreamId, by: 'user' } },
        ctx.clock.now(),
      );
    },
    [attemptLimit],
  );
}
