import { GroupName } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { sha256 } from '../lib/hash.js';
import { DirectoryConflict, type DirectoryUser } from '../identity/provider.js';
import type { Upstream } from './registry.js';
import type { UpstreamIdentity } from './identity.js';
import { UpstreamFailure } from './relying-party.js';

/** The account an upstream identity signs in as. */
export interface FederatedAccount {
  user: DirectoryUser;
  /** Made just now (provision: create or invitation). */
  created: boolean;
}

const refused = (reason: string, message: string) => new UpstreamFailure(reason, message);

/** `allowed_domains`: the upstream must vouch for an address in one of them. */
function checkDomain(upstream: Upstream, identity: UpstreamIdentity): void {
  const allowed = upstream.settings.allowed_domains;
  if (allowed.length === 0) return;
  const domain = identity.email?.split('@').pop();
  if (!identity.email || !identity.emailVerified || !domain || !allowed.includes(domain)) {
    throw refused('domain_not_allowed', `Sign-in with ${upstream.settings.name} is open only to addresses at ${allowed.join(', ')}.`);
  }
}

async function usable(ctx: AppContext, userId: string): Promise<DirectoryUser> {
  const user = await ctx.identity.directory.getUser(userId);
  if (!user || user.disabled) throw refused('account_disabled', 'This account is disabled. Ask an administrator.');
  return user;
}

/**
 * `link`: an existing account for an identity never seen before. By e-mail only when the
 * upstream verified it and the account's own address is verified too, so nobody can register
 * someone else's address here first and wait for them to arrive (account pre-hijacking).
 */
async function matchExisting(ctx: AppContext, upstream: Upstream, identity: UpstreamIdentity): Promise<DirectoryUser | undefined> {
  const mode = upstream.settings.link;
  if (mode === 'verified_email') {
    if (!identity.email || !identity.emailVerified) return undefined;
    const user = await ctx.storage.users.findByLogin(identity.email);
    return user && user.email === identity.email && user.emailVerified ? ctx.identity.directory.getUser(user.id) : undefined;
  }
  if (mode === 'username' && identity.username) {
    const user = await ctx.identity.directory.resolveUser(identity.username);
    return user && user.username.toLowerCase() === identity.username.toLowerCase() ? user : undefined;
  }
  return undefined;
}

/** A username from the upstream, made unique here with a counter: alice, alice-2, alice-3 … */
async function createUser(ctx: AppContext, identity: UpstreamIdentity, groupIds: string[], email: string | null): Promise<DirectoryUser> {
  const wanted = identity.username ?? identity.email?.split('@')[0] ?? 'user';
  const base =
    wanted
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 56) || 'user';
  let withEmail = email;
  for (let n = 1; n <= 50; n++) {
    try {
      return await ctx.identity.directory.createUser({
        username: n === 1 ? base : `${base}-${n}`,
        email: withEmail,
        emailVerified: withEmail !== null && identity.emailVerified,
        name: identity.name?.slice(0, 128) ?? null,
        password: null,
        isAdmin: false,
        groupIds,
      });
    } catch (err) {
      if (!(err instanceof DirectoryConflict)) throw err;
      // An address held by another account is not taken over: the new account goes without it.
      if (err.reason === 'email_taken') withEmail = null;
      else if (err.reason !== 'username_taken') throw err;
    }
  }
  throw refused('username_exhausted', 'No free username was found for this account. Ask an administrator.');
}

/** `provision`: a new account for an identity no account matches, or a refusal. */
async function provision(
  ctx: AppContext,
  upstream: Upstream,
  identity: UpstreamIdentity,
  invitationToken: string | undefined,
): Promise<DirectoryUser> {
  const mode = upstream.settings.provision;
  const noAccount = () =>
    refused('no_account', `No account here belongs to this ${upstream.settings.name} sign-in. Ask an administrator for an invitation.`);
  if (mode === 'deny') throw noAccount();
  if (mode === 'create') return createUser(ctx, identity, [], identity.email);

  if (invitationToken === undefined) throw noAccount();
  const now = ctx.clock.now();
  const invitation = await ctx.storage.invitations.findByHash(sha256(invitationToken));
  if (!invitation || !(await ctx.storage.invitations.claim(invitation.id, now))) {
    throw refused('invalid_invitation', 'This invitation link is not valid. It may have expired or been used already; ask for a new one.');
  }
  try {
    const groups = await ctx.identity.directory.findGroupsByName(invitation.groups);
    // The invitation went to its address: that address is the account's, verified by holding the link.
    const user = await createUser(
      ctx,
      { ...identity, email: invitation.email, emailVerified: true },
      groups.map((g) => g.id),
      invitation.email,
    );
    await ctx.storage.invitations.setUsedBy(invitation.id, user.id);
    await ctx.audit.record(
      { event: 'invitation_accept', userId: user.id, detail: { invitation: invitation.id, upstream: upstream.id } },
      now,
    );
    return user;
  } catch (err) {
    await ctx.storage.invitations.release(invitation.id);
    throw err;
  }
}

/**
 * `sync_groups`: the account's memberships follow the upstream's groups (prefixed), groups
 * missing here are made. With a prefix, memberships of prefixed groups the upstream no longer
 * lists are removed; without one nothing is removed, so local groups are never touched.
 */
async function syncGroups(ctx: AppContext, upstream: Upstream, user: DirectoryUser, identity: UpstreamIdentity): Promise<void> {
  const { sync_groups: sync, groups_prefix: prefix } = upstream.settings;
  if (!sync) return;
  const { directory } = ctx.identity;
  const names = [...new Set(identity.groups.map((g) => `${prefix}${g}`).filter((n) => GroupName.safeParse(n).success))];
  const existing = await directory.findGroupsByName(names);
  const ids = new Set(existing.map((g) => g.id));
  for (const name of names.filter((n) => !existing.some((g) => g.name === n))) {
    try {
      ids.add((await directory.createGroup({ name, description: `From ${upstream.settings.name}`, requireMfa: false, parentIds: [] })).id);
    } catch (err) {
      if (!(err instanceof DirectoryConflict)) throw err;
      // Made by a concurrent sign-in meanwhile.
      const made = await directory.findGroupsByName([name]);
      if (made[0]) ids.add(made[0].id);
    }
  }
  const member = new Set(user.groups.map((g) => g.id));
  for (const id of ids) if (!member.has(id)) await directory.addMember(id, user.id);
  if (prefix !== '') {
    for (const g of user.groups) if (g.name.startsWith(prefix) && !ids.has(g.id)) await directory.removeMember(g.id, user.id);
  }
}

/**
 * The account an upstream sign-in is for: the one linked to its (issuer, subject); else one the
 * `link` setting matches, linked now; else one `provision` makes. A new account whose link
 * cannot be written (the same identity linked concurrently) is removed again.
 */
export async function accountFor(
  ctx: AppContext,
  upstream: Upstream,
  identity: UpstreamIdentity,
  invitationToken: string | undefined,
  ip: string | null,
): Promise<FederatedAccount> {
  checkDomain(upstream, identity);
  const store = ctx.storage.upstreams;
  const now = ctx.clock.now();
  const known = await store.findLink(identity.issuer, identity.subject);
  if (known) {
    const user = await usable(ctx, known.userId);
    await store.touchLink(identity.issuer, identity.subject, identity.email, now);
    await syncGroups(ctx, upstream, user, identity);
    return { user, created: false };
  }

  const matched = await matchExisting(ctx, upstream, identity);
  if (matched && matched.disabled) throw refused('account_disabled', 'This account is disabled. Ask an administrator.');
  const user = matched ?? (await provision(ctx, upstream, identity, invitationToken));
  const link = {
    issuer: identity.issuer,
    subject: identity.subject,
    upstreamId: upstream.id,
    userId: user.id,
    email: identity.email,
    createdAt: now,
  };
  if (!(await store.insertLink(link))) {
    if (!matched) await ctx.identity.directory.deleteUser(user.id);
    throw refused('already_linked', `This account is already linked to another ${upstream.settings.name} sign-in.`);
  }
  if (!matched) {
    await ctx.audit.record(
      { event: 'user_create', userId: user.id, ip, detail: { username: user.username, via: `upstream:${upstream.id}` } },
      now,
    );
  }
  await ctx.audit.record(
    { event: 'upstream_link', userId: user.id, ip, detail: { upstream: upstream.id, via: matched ? upstream.settings.link : 'provision' } },
    now,
  );
  await syncGroups(ctx, upstream, user, identity);
  return { user: (await ctx.identity.directory.getUser(user.id)) ?? user, created: !matched };
}

/** Links the identity to the signed-in user who asked for it (Security → link). */
export async function linkTo(
  ctx: AppContext,
  upstream: Upstream,
  identity: UpstreamIdentity,
  userId: string,
  ip: string | null,
): Promise<void> {
  checkDomain(upstream, identity);
  const store = ctx.storage.upstreams;
  const known = await store.findLink(identity.issuer, identity.subject);
  if (known) {
    if (known.userId === userId) return;
    throw refused('linked_to_other_account', `This ${upstream.settings.name} account already signs in to another account here.`);
  }
  const now = ctx.clock.now();
  const link = {
    issuer: identity.issuer,
    subject: identity.subject,
    upstreamId: upstream.id,
    userId,
    email: identity.email,
    createdAt: now,
  };
  if (!(await store.insertLink(link))) {
    throw refused('already_linked', `Your account is already linked to a ${upstream.settings.name} sign-in. Unlink it first.`);
  }
  await ctx.audit.record({ event: 'upstream_link', userId, ip, detail: { upstream: upstream.id, via: 'security' } }, now);
}
