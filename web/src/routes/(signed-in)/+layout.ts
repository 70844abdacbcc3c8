import { error, redirect } from '@sveltejs/kit';
import type { SessionView } from '@gatehouse/shared';
import { messageOf } from '$lib/api/client';
import { getSession } from '$lib/api/session';
import type { LayoutLoad } from './$types';

/**
 * Every screen in this group is for a signed-in user: the session is loaded once, when the group
 * is entered, and given to its pages as `data.session`. Anonymous visitors go to sign in; the
 * redirect takes the place of the screen they asked for in the history.
 */
export const load: LayoutLoad = async () => {
  let session: SessionView | null;
  try {
    session = await getSession();
  } catch (err) {
    error(500, messageOf(err));
  }
  if (!session) redirect(307, '/login');
  return { session };
};
