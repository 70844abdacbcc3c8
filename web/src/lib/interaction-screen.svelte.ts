import { tick } from 'svelte';
import { goto } from '$app/navigation';
import { page } from '$app/state';
import type { InteractionNext, InteractionPrompt } from '@gatehouse/shared';
import { messageOf } from '$lib/api/client';
import { getInteraction, type InteractionView } from '$lib/api/interaction';
import { follow, screenUrl } from '$lib/flow';
import type Alert from '$lib/components/Alert.svelte';

/**
 * What a screen of a pending authorization request (`?interaction=<id>`) shows around its
 * content: the request as loaded, whether it is loading, why it can no longer go on (`expired`),
 * whether a step is under way, and one error, in an `Alert` the screen binds to `errorBox`, that
 * takes focus so a screen reader reads it out. `InteractionCard` renders the loading and expired
 * states.
 *
 * @example
 * const interaction = new InteractionScreen('consent', { missing: 'There is no sign-in request to approve.' });
 * onMount(async () => {
 *   if (await interaction.load()) approveButton?.focus();
 * });
 * const deny = () => interaction.follow((id) => submitConsent(id, false));
 */
export class InteractionScreen {
  /** The request's id, from `?interaction=`; null on a sign-in that is not for an application. */
  readonly id = page.url.searchParams.get('interaction');
  view = $state<InteractionView | null>(null);
  loading = $state(false);
  expired = $state<string | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  errorBox = $state<Alert>();
  readonly #prompts: readonly InteractionPrompt[];

  /**
   * @param prompts The steps this screen is for; a request at another step goes to that step's screen.
   * @param options.missing Shown as expired when there is no `?interaction=`. Without it the screen
   *   also works without a request (the portal's own sign-in).
   */
  constructor(prompts: InteractionPrompt | readonly InteractionPrompt[], { missing }: { missing?: string } = {}) {
    this.#prompts = typeof prompts === 'string' ? [prompts] : prompts;
    this.loading = this.id !== null;
    if (this.id === null && missing) this.expired = missing;
  }

  /**
   * Loads the request and resolves true once the screen shows it (or why it cannot go on), so the
   * caller can move focus into it; resolves false when the request went to another step's screen.
   */
  load = async (): Promise<boolean> => {
    if (this.id !== null) {
      try {
        const view = await getInteraction(this.id);
        if (!this.#prompts.includes(view.prompt)) {
          await goto(screenUrl(view.prompt, this.id), { replaceState: true });
          return false;
        }
        this.view = view;
      } catch (err) {
        this.expired = messageOf(err);
      }
      this.loading = false;
    }
    await tick();
    return true;
  };

  /** Shows what went wrong and moves focus to it. */
  showError = async (message: string): Promise<void> => {
    this.error = message;
    await tick();
    this.errorBox?.focus();
  };

  /**
   * Takes a step the person chose (`step` sends it) and goes where the request goes next; `busy`
   * until the screen is left. A failure is shown, focused.
   */
  follow = async (step: (id: string) => Promise<InteractionNext>): Promise<void> => {
    if (this.id === null) return;
    this.busy = true;
    this.error = null;
    try {
      await follow(this.id, await step(this.id));
    } catch (err) {
      this.busy = false;
      await this.showError(messageOf(err));
    }
  };
}
