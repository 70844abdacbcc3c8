import { tick } from 'svelte';
import type { ApiErrorCode } from '@gatehouse/shared';
import type { ApiFailure } from './api/client';
import { isFailure } from './errors';

/** One problem with one field, named as the API names it: `name`, or `redirectUris.1` for an item. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Messages by form field, shown under each field. */
export type FieldErrors<F extends string> = Partial<Record<F, string[]>>;

/** The issues of a failed zod parse, named like the API's. */
export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
}

const isIssue = (d: unknown): d is FieldIssue =>
  typeof d === 'object' && d !== null && 'field' in d && typeof d.field === 'string' && 'message' in d && typeof d.message === 'string';

/**
 * The per-field issues the API sent with a failure that has one of `codes` (by default only
 * `validation_failed`); none for any other failure.
 */
export function issuesOfFailure(err: unknown, codes: readonly ApiErrorCode[] = ['validation_failed']): FieldIssue[] {
  const details = codes.some((code) => isFailure(err, code)) ? (err as ApiFailure).details : undefined;
  return Array.isArray(details) ? details.filter(isIssue) : [];
}

/** The top-level field an issue is about (`redirectUris` for `redirectUris.1`). */
export const fieldOf = (issue: FieldIssue): string => issue.field.split('.')[0] ?? '';

/**
 * Messages by field, for the fields a form shows; `label` may reword an issue (e.g. to name the
 * bad line of a list). Issues about other fields are left out.
 */
export function byField<F extends string>(
  issues: readonly FieldIssue[],
  fields: readonly F[],
  label: (issue: FieldIssue) => string = (i) => i.message,
): FieldErrors<F> {
  const out: FieldErrors<F> = {};
  for (const issue of issues) {
    const field = fields.find((f) => f === fieldOf(issue));
    if (field) (out[field] ??= []).push(label(issue));
  }
  return out;
}

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
  return byField(issuesOfFailure(err, ['validation_failed', 'conflict']), fields);
}

/** What the alert above a form says: to look below when fields are marked, else `message`. */
export function summaryOf(errors: FieldErrors<string>, message: string): string {
  return Object.keys(errors).length ? 'Check the fields marked below.' : message;
}

/** The first of `fields`, in form order, that has an error. */
export function firstInvalid<F extends string>(errors: FieldErrors<F>, fields: readonly F[]): F | null {
  return fields.find((f) => errors[f]?.length) ?? null;
}

/** Moves focus to a field by id once its error is on screen, so it is read out with it. */
export async function focusField(id: string): Promise<void> {
  await tick();
  document.getElementById(id)?.focus();
}

/** An aria-describedby value from the ids that apply, or undefined when none does. */
export function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
  const present = ids.filter((id): id is string => Boolean(id));
  return present.length ? present.join(' ') : undefined;
}
