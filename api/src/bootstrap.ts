import { sha256 } from './lib/hash.js';
import type { ClientRegistration } from '@gatehouse/shared';
import type { AppContext } from './context.js';
import type { Client } from './storage/clients.js';
import { configSecret, settingsOf } from './federation/registry.js';

/** A client registration as stored: the secret only as its SHA-256. */
export function clientFromRegistration(r: ClientRegistration, source: Client['source']): Client {
  const secretHash = r.client_secret
    ? sha256(r.client_secret)
    : r.client_secret_hash
      ? Buffer.from(r.client_secret_hash.slice('sha256:'.length), 'hex').toString('base64url')
      : null;
  return {
    id: r.client_id,
    secretHash,
    name: r.name,
    type: r.type,
    redirectUris: r.redirect_uris,
    postLogoutRedirectUris: r.post_logout_redirect_uris,
    consent: r.consent,
    scopes: r.scopes,
    grantTypes: r.grant_types,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method,
    idTokenAlg: r.id_token_signed_response_alg,
    requireMfa: r.require_mfa,
    logoUri: r.logo_uri ?? null,
    allowedGroups: r.allowed_groups,
    source,
  };
}

/**
 * Deletes pending sign-ins, codes and refresh tokens whose time is up, and the sign-in
 * throttle's forgotten failures, challenges and device cookies.
 */
export async function purgeExpired(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now();
  await ctx.storage.interactions.purgeExpired(now);
  await ctx.storage.grants.purgeExpired(now);
  await ctx.storage.upstreams.purgeExpired(now);
  await ctx.regulator.purgeExpired();
}

const DAY = 24 * 3600;

/**
 * Deletes audit events older than `auditRetentionDays`. A purge that deleted something is
 * itself audited (`audit_purge`, with the count), so gaps in the trail are explained.
 */
export async function purgeAuditLog(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const before = now - ctx.config.auditRetentionDays * DAY;
  const deleted = await ctx.storage.audit.purgeBefore(before);
  if (deleted > 0) {
    await ctx.audit.record({ event: 'audit_purge', detail: { deleted, before, retention_days: ctx.config.auditRetentionDays } }, now);
  }
  return deleted;
}

export interface BootstrapResult {
  /** Set only when the first admin was created with a generated password. */
  generatedAdminPassword?: string;
  adminCreated: boolean;
  /** No administrator exists and the name `admin` is taken by someone else. */
  noAdmin?: boolean;
}

/**
 * Start-up work on the database: the configured clients and upstreams replace the previous
 * configured ones, and an embedded user store without an administrator gets a first admin (`admin`).
 */
export async function bootstrap(ctx: AppContext): Promise<BootstrapResult> {
  const now = ctx.clock.now();
  await ctx.storage.clients.syncConfigClients(
    ctx.config.clients.map((c) => clientFromRegistration(c, 'config')),
    now,
  );
  await ctx.storage.upstreams.syncConfig(
    ctx.config.upstreams.map((u) => {
      const secret = configSecret(u);
      return { id: u.id, settings: settingsOf(u), sealedSecret: secret === undefined ? null : ctx.box.seal(secret) };
    }),
    now,
  );
  await ctx.upstreams.reload();
  await purgeExpired(ctx);
  await purgeAuditLog(ctx);
  // Only the embedded store holds users; OpenBao's admins are members of `openbao.adminGroup`.
  if (!ctx.identity.capabilities.manageUsers) return { adminCreated: false };
  const { directory } = ctx.identity;
  // Users added with the CLI before the first start must not stop the first admin being made.
  if ((await directory.countAdmins()) > 0) return { adminCreated: false };
  if (await directory.resolveUser('admin')) return { adminCreated: false, noAdmin: true };

  const generated = ctx.config.adminPassword ? undefined : ctx.random.token(18);
  const admin = await directory.createUser({
    username: 'admin',
    email: null,
    name: 'Administrator',
    password: ctx.config.adminPassword ?? generated!,
    isAdmin: true,
    groupIds: [],
  });
  await ctx.audit.record({ event: 'user_create', userId: admin.id, detail: { username: 'admin', by: 'bootstrap' } }, now);
  return { adminCreated: true, ...(generated && { generatedAdminPassword: generated }) };
}
