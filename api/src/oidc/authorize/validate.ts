import { AuthorizeParams } from '@gatehouse/shared';
import type { AppContext } from '../../context.js';
import { singleValued } from '../../http/validate.js';
import { InvalidRequest } from '../errors.js';
import { checkClient } from './check-client.js';
import { checkPkce } from './check-pkce.js';
import { checkPrompt } from './check-prompt.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResponseType } from './check-response-type.js';
import { checkScope } from './check-scope.js';
import { checkUnsupported } from './check-unsupported.js';
import type { AuthorizeRequest, TrustedTarget } from './request.js';

/**
 * Establishes whom errors may be redirected to: until the client and its redirect_uri are
 * known, every error is shown to the user instead (RFC 6749 §4.1.2.1).
 */
export async function trustTarget(ctx: AppContext, raw: unknown): Promise<TrustedTarget> {
  const { values, repeated } = singleValued(raw);
  if (repeated === 'client_id' || repeated === 'redirect_uri') {
    throw new InvalidRequest(`${repeated} was given more than once.`);
  }
  const client = await checkClient(ctx, values.client_id);
  const redirectUri = checkRedirectUri(client, values.redirect_uri);
  const state = repeated === 'state' ? undefined : values.state;
  return { client, redirectUri, state };
}

/** The rest of the checks, in order; each error here is redirected to the client. */
export function validateRequest(raw: unknown, target: TrustedTarget): AuthorizeRequest {
  const { values, repeated } = singleValued(raw);
  if (repeated) throw new InvalidRequest(`${repeated} was given more than once.`);
  const parsed = AuthorizeParams.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidRequest(`${issue.path.join('.')}: ${issue.message}`);
  }
  const params = parsed.data;
  checkUnsupported(params);
  checkResponseType(params);
  const scopes = checkScope(params, target.client);
  checkPkce(params, target.client);
  const { prompts, maxAge } = checkPrompt(params);
  return { ...target, params, scopes, prompts, maxAge };
}
