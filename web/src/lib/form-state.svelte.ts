import { tick } from 'svelte';
import { messageOf } from '$lib/api/client';
import { firstIssue, isFailure } from '$lib/errors';
import { failureErrors, firstInvalid, focusField, parseErrors, type FieldErrors } from '$lib/field-errors';
import { signIn, type PageState } from '$lib/page-state.svelte';
import type Alert from '$lib/components/Alert.svelte';

type Issues = { issues: readonly { path: readonly PropertyKey[]; message: string }[] };

/**
 * A form whose fields each say what is wrong with them (`errors`), with an alert above it for a
 * problem no field is marked for (`message`, in an `Alert` bound to `messageBox`) and one for what
 * saving did (`notice`, bound to `noticeBox`). A failure moves focus to the first wrong field,
 * else to the message, so a screen reader reads it out. While it saves, the screen's
 * `PageState` is busy.
 *
 * @example
 * const form = new FormState(ps, ['name'] as const, (field) => `group-${field}`);
 * const save = (event: SubmitEvent) => {
 *   event.preventDefault();
 *   return form.submit(UpdateGroupRequest.safeParse({ name }), async (body) => fill(await updateGroup(id, body)));
 * };
 */
export class FormState<F extends string> {
  errors = $state<FieldErrors<F>>({});
  message = $state<string | null>(null);
  notice = $state<string | null>(null);
  messageBox = $state<Alert>();
  noticeBox = $state<Alert>();
  readonly #page: Pick<PageState, 'busy'>;
  readonly #fields: readonly F[];
  readonly #idOf: (field: F) => string;

  /**
   * @param page The screen's state, busy while the form saves.
   * @param fields The form's fields, in the order they appear.
   * @param idOf The id of the element that takes focus when a field is wrong.
   */
  constructor(page: Pick<PageState, 'busy'>, fields: readonly F[], idOf: (field: F) => string) {
    this.#page = page;
    this.#fields = fields;
    this.#idOf = idOf;
  }

  /** Takes the marks and the message away. */
  reset = (): void => {
    this.errors = {};
    this.message = null;
  };

  /** Marks the fields and focuses the first; or, when none is marked, shows `message`, focused. */
  fail = async (errors: FieldErrors<F>, message: string): Promise<void> => {
    this.errors = errors;
    const field = firstInvalid(errors, this.#fields);
    this.message = field ? null : message;
    if (field) return focusField(this.#idOf(field));
    await tick();
    this.messageBox?.focus();
  };

  /** Says what saving did and moves focus there. */
  say = async (notice: string): Promise<void> => {
    this.notice = notice;
    await tick();
    this.noticeBox?.focus();
  };

  /**
   * Saves what the form's schema made of its values: marks what the schema refused, else runs
   * `save` and marks what the API refused (an `unauthenticated` answer sends the browser to sign in).
   */
  submit = async <T>(parsed: { success: true; data: T } | { success: false; error: Issues }, save: (data: T) => Promise<unknown>) => {
    if (!parsed.success)
      return this.fail(parseErrors(parsed.error, this.#fields), firstIssue(parsed.error, 'Check the form and try again'));
    this.reset();
    this.#page.busy = true;
    try {
      await save(parsed.data);
    } catch (err) {
      if (isFailure(err, 'unauthenticated')) return signIn();
      // The fields are enabled again first: a disabled field cannot take the focus.
      this.#page.busy = false;
      await this.fail(failureErrors(err, this.#fields), messageOf(err));
    } finally {
      this.#page.busy = false;
    }
  };
}
