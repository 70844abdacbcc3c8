import { z } from 'zod';
import { CreateInvitationRequest, CreatedInvitation, InvitationList, InvitationStatus, type Invitation } from '@gatehouse/shared';
import { auditAdmin } from './admin-actions.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { NotSupported } from '../identity/provider.js';
import { sha256 } from '../lib/hash.js';
import type { InvitationRecord } from '../storage/invitations.js';
import type { RestRoutes } from './route.js';

const HOUR = 3600;

/** Where an invitation stands at `now`; only `pending` ones can be looked up or accepted. */
export function invitationStatus(i: InvitationRecord, now: number): Invitation['status'] {
  if (i.usedAt !== null) return 'used';
  if (i.revokedAt !== null) return 'revoked';
  return i.expiresAt <= now ? 'expired' : 'pending';
}

const toDto = (i: InvitationRecord, now: number): Invitation => ({
  id: i.id,
  email: i.email,
  groups: i.groups,
  status: invitationStatus(i, now),
  createdAt: i.createdAt,
  expiresAt: i.expiresAt,
  createdBy: i.createdBy,
  usedBy: i.usedBy,
});

const ListQuery = z.object({ status: z.enum([...InvitationStatus.options, 'all']).default('pending') });

/**
 * Invitations: single-use links that let their holder create an account with a given email,
 * landing in the given groups.
 *   POST   /api/v1/admin/invitations       create; the link (with the token) is answered once
 *   GET    /api/v1/admin/invitations       list (pending by default; `?status=all|used|revoked|expired`)
 *   DELETE /api/v1/admin/invitations/:id   revoke an unused one
 * The token is 256 random bits stored only as its SHA-256. It travels in the link's fragment,
 * so it never reaches a server log.
 */
export function adminInvitationRoutes(ctx: AppContext, routes: RestRoutes): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/invitations',
      summary: 'Invite someone to create an account',
      scope: 'admin:write',
      body: CreateInvitationRequest,
      response: CreatedInvitation,
      status: 201,
    },
    async ({ req, principal, body }) => {
      // Accepting one creates an account, which only a backend that manages users can do.
      if (!ctx.identity.capabilities.manageUsers) throw new NotSupported('Inviting people (add them to OpenBao userpass)');
      const found = await ctx.identity.directory.findGroupsByName(body.groups);
      const byName = new Map(found.map((g) => [g.name.toLowerCase(), g.name]));
      const unknown = body.groups.filter((n) => !byName.has(n.toLowerCase()));
      if (unknown.length > 0) {
        throw ApiError.validation(
          [{ field: 'groups', message: `No such group: ${unknown.join(', ')}` }],
          `No such group: ${unknown.join(', ')}.`,
        );
      }
      const now = ctx.clock.now();
      const token = ctx.random.token(32);
      const invitation: InvitationRecord = {
        id: ctx.random.token(12),
        email: body.email,
        groups: [...new Set(body.groups.map((n) => byName.get(n.toLowerCase())!))],
        sealedTotpSecret: null,
        createdBy: principal.user.id,
        createdAt: now,
        expiresAt: now + body.expiresInHours * HOUR,
        usedAt: null,
        usedBy: null,
        revokedAt: null,
      };
      await ctx.storage.invitations.insert(invitation, sha256(token));
      await auditAdmin(ctx, req, principal, {
        event: 'invitation_create',
        detail: { invitation: invitation.id, email: invitation.email, groups: invitation.groups.join(' ') },
      });
      return { invitation: toDto(invitation, now), url: `${ctx.config.issuer}/join#${token}` };
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/invitations',
      summary: 'List invitations',
      scope: 'admin:read',
      query: ListQuery,
      response: InvitationList,
    },
    async ({ query }) => {
      const now = ctx.clock.now();
      const all = await ctx.storage.invitations.list(query.status === 'pending' ? now : undefined);
      const invitations = all.map((i) => toDto(i, now));
      return { invitations: query.status === 'all' ? invitations : invitations.filter((i) => i.status === query.status) };
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/invitations/:id', summary: 'Revoke an invitation', scope: 'admin:write' },
    async ({ req, principal }) => {
      const id = z.string().max(64).safeParse(req.params.id).data ?? '';
      const now = ctx.clock.now();
      if (!(await ctx.storage.invitations.revoke(id, now))) {
        const existing = await ctx.storage.invitations.findById(id);
        if (!existing) throw ApiError.notFound('No such invitation.');
        if (existing.usedAt !== null) throw new ApiError('conflict', 409, 'This invitation has been used already; it cannot be revoked.');
        return; // revoked before: nothing changes
      }
      await auditAdmin(ctx, req, principal, { event: 'invitation_revoke', detail: { invitation: id } });
    },
  );
}
