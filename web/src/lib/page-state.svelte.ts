import { tick } from 'svelte';
import { goto } from '$app/navigation';
import { messageOf } from '$lib/api/client';
import { isFailure } from '$lib/errors';
import type Alert from '$lib/components/Alert.svelte';

/** Sends the browser to sign in, in place of this screen in the history (the session has ended). */
export const signIn = () => goto('/login', { replaceState: true });

/**
 * What a signed-in screen shows around its content: whether it is loading, whether an action is
 * under way, and one notice and one error, each in an `Alert` the screen binds to `noticeBox` and
 * `errorBox`. A notice or error that follows something the person did takes focus, so a screen
 * reader reads it out; an `unauthenticated` answer sends the browser to sign in instead.
 *
 * @example
 * const ps = new PageState();
 * onMount(() => ps.load(async () => (items = (await listItems()).items)));
 * const remove = (item: Item) => ps.run(() => deleteItem(item.id), `Deleted ${item.name}.`);
 */
export class PageState<Notice = string> {
  loading = $state(true);
  busy = $state(false);
  error = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  noticeBox = $state<Alert>();
  errorBox = $state<Alert>();

  constructor(initial: { loading?: boolean; notice?: Notice | null } = {}) {
    this.loading = initial.loading ?? true;
    this.notice = initial.notice ?? null;
  }

  /** Takes the notice and the error away, e.g. when the person starts something new. */
  clear = (): void => {
    this.notice = null;
    this.error = null;
  };

  /** Shows a notice and moves focus to it. */
  say = async (notice: Notice): Promise<void> => {
    this.notice = notice;
    await tick();
    this.noticeBox?.focus();
  };

  /** Shows what went wrong, focused unless `focus` is false; or sends the browser to sign in. */
  fail = async (err: unknown, { focus = true } = {}): Promise<void> => {
    if (isFailure(err, 'unauthenticated')) {
      await signIn();
      return;
    }
    this.error = messageOf(err);
    if (!focus) return;
    await tick();
    this.errorBox?.focus();
  };

  /**
   * Fetches what the screen shows; `loading` ends when it settles. A failure is shown, focused
   * only with `focus` (for a reload the person asked for, not as the screen first appears).
   */
  load = async (fetch: () => Promise<unknown>, { focus = false } = {}): Promise<void> => {
    try {
      await fetch();
    } catch (err) {
      await this.fail(err, { focus });
    } finally {
      this.loading = false;
    }
  };

  /**
   * Runs an action the person asked for, `busy` meanwhile; then says `notice` when given (an
   * action that shows its own result focuses that itself), or shows what went wrong.
   */
  run = async (action: () => Promise<unknown>, notice?: Notice): Promise<void> => {
    this.busy = true;
    try {
      await action();
      if (notice !== undefined) await this.say(notice);
    } catch (err) {
      await this.fail(err);
    } finally {
      this.busy = false;
    }
  };
}
