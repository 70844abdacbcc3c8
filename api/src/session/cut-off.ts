import type { AppContext } from '../context.js';

/**
 * Signs a user out everywhere but `keepSessionId` and revokes every token issued to them: after
 * a password change or reset, or when an admin disables the account.
 */
export async function cutOff(ctx: AppContext, userId: string, keepSessionId: string | null): Promise<void> {
  const now = ctx.clock.now();
  await ctx.sessions.endAllExcept(userId, keepSessionId, now);
  await ctx.storage.grants.revokeAllForUser(userId, now);
}
