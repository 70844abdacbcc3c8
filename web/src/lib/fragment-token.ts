import { tick } from 'svelte';
import { replaceState } from '$app/navigation';

/**
 * The token of a link like `/join#<token>`, read from the fragment (which never reaches a server
 * log) and then taken out of the address bar and history; '' when there is none. Call it once
 * the page is mounted.
 */
export async function takeFragmentToken(): Promise<string> {
  const token = location.hash.slice(1);
  if (!token) return '';
  // The router takes shallow changes only once mounted.
  await tick();
  // The address the page is at already, without its fragment: nothing to resolve.
  // eslint-disable-next-line svelte/no-navigation-without-resolve
  replaceState(location.pathname + location.search, {});
  return token;
}
