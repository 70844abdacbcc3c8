import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Parses a JSON body with a shared schema; a failure is a 400 listing each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw ApiError.validation(result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

/** Parses query parameters with a shared schema; a repeated parameter is refused. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const { values, repeated } = singleValued(query);
  if (repeated) throw ApiError.validation([{ field: repeated, message: 'must be given once' }]);
  return parseBody(schema, values);
}

/**
 * Flattens a parsed query string or form body into single string values. RFC 6749 §3.1:
 * parameters MUST NOT be included more than once; the name of the first repeated one is returned.
 */
export function singleValued(input: unknown): { values: Record<string, string>; repeated?: string } {
  const values: Record<string, string> = {};
  let repeated: string | undefined;
  if (typeof input !== 'object' || input === null) return { values };
  // Keep collecting after a repeated one: whether an error may be redirected, and with which
  // state, must not depend on where in the query the repeated parameter stood.
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === 'string') values[key] = value;
    else repeated ??= key;
  }
  return repeated === undefined ? { values } : { values, repeated };
}
