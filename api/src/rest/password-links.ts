import type { RequestHandler } from 'express';
import { PasswordLinkLookup, PasswordLinkPreview, UsePasswordLinkRequest, type PasswordLink } from '@gatehouse/shared';
import { cutOff } from '../session/cut-off.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { sha256 } from '../lib/hash.js';
import type { PasswordLinkRecord } from '../storage/password-links.js';
import type { RestRoutes } from './route.js';

/**
 * A one-time link for a user to set their password: `<issuer>/reset-password#<token>` (the
 * token stays in the fragment, out of server logs), 256 random bits stored only as SHA-256.
 * Earlier unused links of the user stop working.
 */
export async function issuePasswordLink(ctx: AppContext, userId: string, createdBy: string | null): Promise<PasswordLink> {
  const now = ctx.clock.now();
  const token = ctx.random.token(32);
  const expiresAt = now + ctx.config.passwordLinkTtl;
  await ctx.storage.passwordLinks.issue({ id: ctx.random.token(12), userId, createdBy, createdAt: now, expiresAt }, sha256(token));
  return { url: `${ctx.config.issuer}/reset-password#${token}`, expiresAt };
}

/** One answer for unknown, used and expired links and for disabled accounts: it does not say which. */
const unusable = () => ApiError.notFound('This link is not valid. It may have expired or been used already; ask an admin for a new one.');

/**
 * Public endpoints behind a per-IP limit, for the holder of a password link:
 *   POST /api/v1/password-link/lookup   whose link it is and until when it works
 *   POST /api/v1/password-link          set the password (once); ends the user's sessions and tokens
 */
export function passwordLinkRoutes(ctx: AppContext, routes: RestRoutes, attemptLimit: RequestHandler): void {
  async function usable(token: string): Promise<{ link: PasswordLinkRecord; username: string }> {
    const link = await ctx.storage.passwordLinks.findUsable(sha256(token), ctx.clock.now());
    const user = link && (await ctx.identity.directory.getUser(link.userId));
    if (!link || !user || user.disabled) throw unusable();
    return { link, username: user.username };
  }

  routes.addPublic(
    {
      method: 'post',
      path: '/api/v1/password-link/lookup',
      summary: 'Check a password link',
      scope: 'public',
      body: PasswordLinkLookup,
      response: PasswordLinkPreview,
    },
    async ({ body }) => {
      const { link, username } = await usable(body.token);
      return { username, expiresAt: link.expiresAt };
    },
    [attemptLimit],
  );

  routes.addPublic(
    {
      method: 'post',
      path: '/api/v1/password-link',
      summary: 'Set a password with a password link',
      scope: 'public',
      body: UsePasswordLinkRequest,
    },
    async ({ req, body }) => {
      const { link } = await usable(body.token);
      const now = ctx.clock.now();
      // Two uses at once: only the one whose conditional update wins sets the password.
      if (!(await ctx.storage.passwordLinks.consume(link.id, now))) throw unusable();
      if (!(await ctx.identity.directory.setPassword(link.userId, body.password))) throw unusable();
      await cutOff(ctx, link.userId, null);
      await ctx.audit.record({ event: 'password_link_used', userId: link.userId, ip: req.ip ?? null, detail: { link: link.id } }, now);
    },
    [attemptLimit],
  );
}
