import type { z } from 'zod';
import { InvalidRequest } from '../../errors.js';

/** Validates a grant's parameters; the first problem becomes an invalid_request. */
export function parseGrant<S extends z.ZodType>(schema: S, body: Record<string, string>): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.');
    throw new InvalidRequest(issue.code === 'invalid_type' ? `${field} is missing.` : `${field}: ${issue.message}`);
  }
  return result.data;
}
