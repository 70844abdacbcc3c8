import { goto } from '$app/navigation';
import type { InteractionNext, InteractionPrompt } from '@gatehouse/shared';

/** The SPA screen for a step of a pending authorization request. */
export function screenUrl(prompt: InteractionPrompt, interactionId: string): string {
  return `/${prompt}?interaction=${encodeURIComponent(interactionId)}`;
}

/**
 * Goes where the API says the request goes next: another screen of the same request, or the
 * URL that resumes the authorization (a full navigation, since it leaves the SPA).
 */
export async function follow(interactionId: string, next: InteractionNext): Promise<void> {
  if (next.next === 'redirect') {
    window.location.assign(next.location);
    return;
  }
  // The SPA is built for the site root (no kit.paths.base), so paths need no resolve().
  // eslint-disable-next-line svelte/no-navigation-without-resolve
  await goto(screenUrl(next.next, interactionId));
}

/**
 * Back to the password screen, saying why (the password step has to be repeated, e.g. after
 * too many wrong codes or when the code step expired).
 */
export async function backToLogin(interactionId: string | null, notice: string): Promise<void> {
  // eslint-disable-next-line svelte/no-navigation-without-resolve
  await goto(interactionId ? screenUrl('login', interactionId) : '/login', { state: { notice } });
}
