import type { AuthorizeParams } from '@gatehouse/shared';
import { InvalidRequest } from '../errors.js';

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

/** OIDC Core §3.1.2.1: prompt values, where `none` stands alone; max_age in seconds. */
export function checkPrompt(params: AuthorizeParams): { prompts: Set<string>; maxAge: number | undefined } {
  const prompts = new Set((params.prompt ?? '').split(' ').filter(Boolean));
  for (const p of prompts) {
    if (!PROMPTS.has(p)) throw new InvalidRequest(`prompt=${p} is not supported.`);
  }
  if (prompts.has('none') && prompts.size > 1) {
    throw new InvalidRequest('prompt=none must not be combined with other values.');
  }
  return { prompts, maxAge: params.max_age === undefined ? undefined : Number(params.max_age) };
}
