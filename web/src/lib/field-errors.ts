import { isFailure } from './errors';

/** One problem with one field, named as the API names it: `name`, or `redirectUris.1` for an item. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The issues of a failed zod parse, named like the API's. */
export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
}

/** The per-field issues of the API's `validation_failed` answer; none for any other failure. */
export function issuesOfFailure(err: unknown): FieldIssue[] {
  if (!isFailure(err, 'validation_failed') || !Array.isArray(err.details)) return [];
  return (err.details as unknown[]).filter(
    (d): d is FieldIssue =>
      typeof d === 'object' && d !== null && typeof (d as FieldIssue).field === 'string' && typeof (d as FieldIssue).message === 'string',
  );
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
): Partial<Record<F, string[]>> {
  const out: Partial<Record<F, string[]>> = {};
  for (const issue of issues) {
    const field = fields.find((f) => f === fieldOf(issue));
    if (field) (out[field] ??= []).push(label(issue));
  }
  return out;
}

/** An aria-describedby value from the ids that apply, or undefined when none does. */
export function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
  const present = ids.filter((id): id is string => Boolean(id));
  return present.length ? present.join(' ') : undefined;
}
