import { ApiFailure } from './api/client';
import type { ApiErrorCode } from '@gatehouse/shared';

/** Whether an error is the API's failure with this code. */
export function isFailure(err: unknown, code: ApiErrorCode): err is ApiFailure {
  return err instanceof ApiFailure && err.code === code;
}

/** Seconds to wait after `too_many_attempts` (from its details), else 0. */
export function retryAfterOf(err: unknown): number {
  if (!isFailure(err, 'too_many_attempts')) return 0;
  const details = err.details;
  const seconds = typeof details === 'object' && details !== null && 'retryAfter' in details ? Number(details.retryAfter) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 0;
}

/** The first message of a failed zod parse, for the person who typed the value. */
export function firstIssue(error: { issues: readonly { message: string }[] }, fallback: string): string {
  return error.issues[0]?.message ?? fallback;
}
