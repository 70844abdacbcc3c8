import type { Request } from 'express';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { UserSummary } from '../identity/provider.js';
import type { Session } from '../storage/sessions.js';

/** The signed-in user of a cookie-authenticated call, or a 401. */
export async function requireSession(ctx: AppContext, req: Request): Promise<{ session: Session; user: UserSummary }> {
  const session = await ctx.sessions.current(req);
  const user = session && (await ctx.identity.findUser(session.userId));
  if (!session || !user) throw ApiError.unauthenticated();
  return { session, user };
}
