import { tick } from 'svelte';
import { isFailure } from '$lib/errors';
import { byField, issuesOf, type FieldIssue } from '$lib/field-errors';

/** Messages by form field, shown under each field. */
export type FieldErrors<F extends string> = Partial<Record<F, string[]>>;

/** Field errors of a failed local parse. */
export function parseErrors<F extends string>(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  fields: readonly F[],
): FieldErrors<F> {
  return byField(issuesOf(error), fields);
}

/**
 * Field errors of a failed API call: the issues of `validation_failed`, and of a `conflict`
 * that names its field (a taken username, email or group name).
 */
export function failureErrors<F extends string>(err: unknown, fields: readonly F[]): FieldErrors<F> {
  if (!isFailure(err, 'validation_failed') && !isFailure(err, 'conflict')) return {};
  const details: unknown[] = Array.isArray(err.details) ? err.details : [];
  return byField(details.filter(isIssue), fields);
}

const isIssue = (d: unknown): d is FieldIssue =>
  typeof d === 'object' && d !== null && 'field' in d && typeof d.field === 'string' && 'message' in d && typeof d.message === 'string';

/** The first of `fields`, in form order, that has an error. */
export function firstInvalid<F extends string>(errors: FieldErrors<F>, fields: readonly F[]): F | null {
  return fields.find((f) => errors[f]?.length) ?? null;
}

/** Moves focus to a field by id once its error is on screen, so it is read out with it. */
export async function focusField(id: string): Promise<void> {
  await tick();
  document.getElementById(id)?.focus();
}
