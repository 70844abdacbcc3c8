import {
  UpstreamButtonList,
  UpstreamLinkList,
  UpstreamRedirect,
  type StartUpstreamLinkRequest,
  type UpstreamButton,
  type UpstreamLink,
} from '@gatehouse/shared';
import { Nothing, call } from './client';

/**
 * Signing in with upstream identity providers (federation). Signing in itself is a top-level
 * navigation to `startUrl`, never a fetch: the upstream's page must open in the browser.
 */

const mine = '/api/v1/me/upstreams';
const myLink = (id: string) => `${mine}/${encodeURIComponent(id)}`;

/** The sign-in screen's buttons; none when they cannot be fetched, so the password form still works alone. */
export async function getUpstreamButtons(): Promise<UpstreamButton[]> {
  try {
    return (await call(UpstreamButtonList, 'GET', '/api/v1/upstreams')).upstreams;
  } catch {
    return [];
  }
}

/**
 * Where signing in with an upstream starts: for an authorization request (`interaction`), to
 * accept an invitation (`invitation`, its token), or, with neither, to the portal.
 */
export function startUrl(upstreamId: string, via: { interaction?: string | null; invitation?: string } = {}): string {
  const query = new URLSearchParams();
  if (via.interaction) query.set('interaction', via.interaction);
  if (via.invitation) query.set('invitation', via.invitation);
  const text = query.toString();
  return `/oauth2/upstream/${encodeURIComponent(upstreamId)}/start${text ? `?${text}` : ''}`;
}

/** The signed-in user's linked sign-ins. */
export const listMyLinks = () => call(UpstreamLinkList, 'GET', mine);
/**
 * Answers the upstream's sign-in page to send the browser to; the link is made when it comes
 * back. A session that signed in a while ago is answered `reauthentication_required`: then send
 * the password (and a code when two-factor is on).
 */
export const startLink = (id: string, body: StartUpstreamLinkRequest = {}) => call(UpstreamRedirect, 'POST', `${myLink(id)}/link`, body);
/**
 * Like `startLink` about re-authentication; `409 last_sign_in_method` when it is the only way
 * left to sign in.
 */
export const unlink = (id: string, body?: StartUpstreamLinkRequest) => call(Nothing, 'DELETE', myLink(id), body);

export type { UpstreamButton, UpstreamLink };
