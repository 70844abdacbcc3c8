import { z } from 'zod';
import {
  API_TOKEN_PREFIX,
  ApiTokenList,
  CreateApiTokenRequest,
  CreatedApiToken,
  type ApiScope,
  type ApiTokenSummary,
} from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { sha256 } from '../lib/hash.js';
import type { ApiToken } from '../storage/api-tokens.js';
import type { RestRoutes } from './route.js';

const DAY = 24 * 3600;

const summary = (t: ApiToken): ApiTokenSummary => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
});

/**
 * Personal API tokens of the caller:
 *   POST   /api/v1/me/tokens       create (shown once)
 *   GET    /api/v1/me/tokens       list (never the token)
 *   DELETE /api/v1/me/tokens/:id   revoke
 * A token is `gh_` + 256 random bits, stored only as its SHA-256, and never holds a scope its
 * creator does not hold.
 */
export function apiTokenRoutes(ctx: AppContext, routes: RestRoutes): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/tokens',
      summary: 'Create a personal API token',
      scope: 'tokens',
      body: CreateApiTokenRequest,
      response: CreatedApiToken,
      status: 201,
    },
    async ({ req, principal, body }) => {
      const max = ctx.config.apiTokenMaxDays;
      if (body.expiresInDays > max) {
        throw ApiError.validation([{ field: 'expiresInDays', message: `At most ${max} days` }]);
      }
      const beyond = body.scopes.filter((s: ApiScope) => !principal.scopes.has(s));
      if (beyond.length > 0) {
        throw new ApiError('insufficient_scope', 403, `You cannot give a token scopes you do not hold: ${beyond.join(', ')}.`, {
          scopes: beyond,
        });
      }
      const now = ctx.clock.now();
      const token = API_TOKEN_PREFIX + ctx.random.token(32);
      const created: ApiToken = {
        id: ctx.random.token(12),
        userId: principal.user.id,
        name: body.name,
        scopes: [...new Set(body.scopes)],
        createdAt: now,
        expiresAt: now + body.expiresInDays * DAY,
        lastUsedAt: null,
        revokedAt: null,
      };
      await ctx.storage.apiTokens.insert(created, sha256(token));
      await ctx.audit.record(
        {
          event: 'token_create',
          userId: principal.user.id,
          ip: req.ip ?? null,
          detail: { token: created.id, name: created.name, scopes: created.scopes.join(' ') },
        },
        now,
      );
      return { ...summary(created), token };
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/me/tokens', summary: 'List your personal API tokens', scope: 'tokens', response: ApiTokenList },
    async ({ principal }) => ({ tokens: (await ctx.storage.apiTokens.listActive(principal.user.id, ctx.clock.now())).map(summary) }),
  );

  routes.add(
    { method: 'delete', path: '/api/v1/me/tokens/:id', summary: 'Revoke a personal API token', scope: 'tokens' },
    async ({ req, principal }) => {
      const id = z.string().max(64).safeParse(req.params.id).data ?? '';
      const now = ctx.clock.now();
      if (!(await ctx.storage.apiTokens.revoke(principal.user.id, id, now))) throw ApiError.notFound('No such token.');
      await ctx.audit.record({ event: 'token_revoke', userId: principal.user.id, ip: req.ip ?? null, detail: { token: id } }, now);
    },
  );
}
