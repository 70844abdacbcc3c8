import { getContext, setContext } from 'svelte';
import type { SessionView } from '@gatehouse/shared';

const key = Symbol('admin-session');

/** Set by the admin layout, which renders admin screens only once an administrator is signed in. */
export function provideAdminSession(get: () => SessionView | null): void {
  setContext(key, get);
}

/** The signed-in administrator's session, inside the admin layout. */
export function adminSession(): SessionView | null {
  return getContext<(() => SessionView | null) | undefined>(key)?.() ?? null;
}
