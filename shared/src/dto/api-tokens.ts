import { z } from 'zod';
import { ApiScope } from './api-scopes.js';
import { displayText } from './text.js';

/** Personal API tokens start with this, so scanners and people recognise them. */
export const API_TOKEN_PREFIX = 'gh_';

export const CreateApiTokenRequest = z
  .object({
    name: displayText(64).min(1, 'Give the token a name'),
    scopes: z.array(ApiScope).min(1, 'Choose at least one scope'),
    /** Days until it expires; required, at most the configured maximum. */
    expiresInDays: z.number().int().min(1).max(3650),
  })
  .strict();
export type CreateApiTokenRequest = z.infer<typeof CreateApiTokenRequest>;

/** A token as listed: never the token itself. */
export const ApiTokenSummary = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(ApiScope),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
});
export type ApiTokenSummary = z.infer<typeof ApiTokenSummary>;

/** The answer to creating a token: the only time the token is shown. */
export const CreatedApiToken = ApiTokenSummary.extend({ token: z.string().startsWith(API_TOKEN_PREFIX) });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;

export const ApiTokenList = z.object({ tokens: z.array(ApiTokenSummary) });
export type ApiTokenList = z.infer<typeof ApiTokenList>;
