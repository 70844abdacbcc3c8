import { ApiErrorBody, CSRF_HEADER, CSRF_HEADER_VALUE, type ApiErrorCode } from '@gatehouse/shared';
import { z } from 'zod';

/** The schema of an empty (204) answer. */
export const Nothing = z.undefined();

/** A failed API call: the API's stable code, or `network` when Gatehouse could not be reached. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ApiErrorCode | 'network',
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * Calls the JSON API on this origin. Every state-changing call carries the CSRF header; every
 * response body is parsed with the shared schema, so a mismatch fails loudly here.
 */
export async function call<S extends z.ZodType>(
  schema: S,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<z.output<S>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = CSRF_HEADER_VALUE;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure('network', 0, 'Gatehouse cannot be reached. Check your connection and try again.');
  }
  const json: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) {
    const parsed = ApiErrorBody.safeParse(json);
    if (parsed.success) throw new ApiFailure(parsed.data.error.code, res.status, parsed.data.error.message, parsed.data.error.details);
    throw new ApiFailure('internal_error', res.status, 'Something went wrong on our side. Try again in a moment.');
  }
  return schema.parse(json);
}

/** A message a person can act on, for any error. */
export function messageOf(err: unknown): string {
  return err instanceof ApiFailure ? err.message : 'Something went wrong. Reload the page and try again.';
}
