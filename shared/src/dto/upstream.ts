import { z } from 'zod';
import { displayText } from './text.js';
import { httpOrHttps, parseUrl, urlWith, type UrlRule } from './url.js';

/**
 * Upstream identity providers Gatehouse signs people in with (federation): their registration
 * as written in `GATEHOUSE_UPSTREAMS` or sent to `/api/v1/admin/upstreams`, and the views of
 * them and of the links between an upstream identity and a Gatehouse account.
 */

export const UPSTREAM_TYPES = ['oidc', 'github', 'google', 'microsoft', 'gitlab'] as const;
export const UpstreamType = z.enum(UPSTREAM_TYPES);
export type UpstreamType = z.infer<typeof UpstreamType>;

/** How an upstream identity finds its account on first use; never by an unverified e-mail. */
export const UpstreamLinkMode = z.enum(['none', 'verified_email', 'username']);
export type UpstreamLinkMode = z.infer<typeof UpstreamLinkMode>;

/** What happens when no account matches. */
export const UpstreamProvision = z.enum(['create', 'invitation', 'deny']);
export type UpstreamProvision = z.infer<typeof UpstreamProvision>;

/** URL-safe: it is a path segment of the callback URL. */
export const UpstreamId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lowercase letters, digits, - or _');

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Gatehouse talks to upstreams over https; plain http only to loopback (development, tests). */
const httpsUnlessLoopback: UrlRule = (url) =>
  url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))
    ? undefined
    : 'must be an https URL (http only for loopback)';
const endpoint = urlWith([httpOrHttps, httpsUnlessLoopback]);

/** An upstream claim name, e.g. `preferred_username` or `login`. */
const claimName = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a claim name');

export const UpstreamClaimMap = z.object({ username: claimName, name: claimName, email: claimName, groups: claimName }).partial().strict();
export type UpstreamClaimMap = z.infer<typeof UpstreamClaimMap>;

const scopeList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v))
  .pipe(z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'must be a scope token')).max(32));

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name like example.org');

/** The fields an admin may set (the secret aside); config entries use the same shape. */
const UpstreamFields = z.object({
  id: UpstreamId,
  name: displayText(64).min(1),
  type: UpstreamType.default('oidc'),
  /** The value ID tokens are checked against; discovery is fetched from it unless `discovery_url` is given. */
  issuer: endpoint.optional(),
  discovery_url: endpoint.optional(),
  /** Entra ID (`microsoft`): the directory (tenant) id; ID tokens must come from it. */
  tenant: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be the tenant id (a UUID)')
    .optional(),
  client_id: z.string().min(1).max(512),
  scopes: scopeList.optional(),
  /** Where the browser is sent, when not the discovered one. */
  authorization_endpoint: endpoint.optional(),
  /** Where Gatehouse itself connects, when not the discovered ones (e.g. an in-cluster URL). */
  token_endpoint: endpoint.optional(),
  userinfo_endpoint: endpoint.optional(),
  jwks_uri: endpoint.optional(),
  link: UpstreamLinkMode.default('none'),
  provision: UpstreamProvision.default('deny'),
  claims: UpstreamClaimMap.default({}),
  /** Prepended to upstream group names when they are copied (sync_groups). */
  groups_prefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,32}$/, 'must be up to 32 letters, digits, dots, dashes or underscores')
    .default(''),
  /** Copy the upstream's groups into Gatehouse groups of the same (prefixed) name on every sign-in. */
  sync_groups: z.boolean().default(false),
  /** Gatehouse's own second factor is asked for after the upstream sign-in. */
  require_mfa: z.boolean().default(false),
  /** Only e-mail addresses in these domains may sign in; empty means any. */
  allowed_domains: z.array(domain).max(64).default([]),
  /** No button on the sign-in screen: reachable only with idp_hint. */
  hidden: z.boolean().default(false),
});

type Fields = z.output<typeof UpstreamFields>;

/** The rules that need more than one field. */
function checkUpstream(u: Partial<Fields> & { client_secret?: string; client_secret_file?: string }, ctx: z.RefinementCtx): void {
  if (u.type === 'oidc' && !u.issuer) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'an oidc upstream needs its issuer' });
  if (u.type === 'microsoft' && !u.tenant && !u.issuer) {
    ctx.addIssue({ code: 'custom', path: ['tenant'], message: 'a microsoft upstream needs its tenant id' });
  }
  if (u.type === 'microsoft' && u.link === 'verified_email') {
    ctx.addIssue({ code: 'custom', path: ['link'], message: "Entra ID's email claim is not verified: use none or username" });
  }
  if (u.type === 'github' && u.issuer) {
    ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'GitHub is not an OpenID provider: leave issuer out' });
  }
  if (u.client_secret !== undefined && u.client_secret_file !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'give client_secret or client_secret_file, not both' });
  }
  if (u.issuer && parseUrl(u.issuer)?.search) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must not have a query' });
}

/** An upstream as configured: `GATEHOUSE_UPSTREAMS` / `upstreams` in the config file. */
export const UpstreamRegistration = UpstreamFields.extend({
  client_secret: z.string().min(1).max(4096).optional(),
  /** A file holding the secret (a mounted Kubernetes or Docker secret); read at start. */
  client_secret_file: z.string().min(1).max(4096).optional(),
})
  .strict()
  .superRefine(checkUpstream);
export type UpstreamRegistrationInput = z.input<typeof UpstreamRegistration>;
export type UpstreamRegistration = z.output<typeof UpstreamRegistration>;

/** `POST /api/v1/admin/upstreams`: the secret is given inline (files are for config). */
export const CreateUpstreamRequest = UpstreamFields.extend({ client_secret: z.string().min(1).max(4096).optional() })
  .strict()
  .superRefine(checkUpstream);
export type CreateUpstreamRequest = z.input<typeof CreateUpstreamRequest>;

const F = UpstreamFields.shape;
/** Unset by sending `null`: the optional settings, and `scopes` (back to the type's default). */
const clearable = <T extends z.ZodType>(field: z.ZodOptional<T>) => field.unwrap().nullable();

/**
 * `PATCH /api/v1/admin/upstreams/:id`: only the fields to change (not the id), with no
 * defaults filled in; `null` clears an optional one. A missing `client_secret` keeps the
 * stored one; `null` removes it.
 */
export const UpdateUpstreamRequest = z
  .object({
    name: F.name,
    type: F.type.unwrap(),
    issuer: clearable(F.issuer),
    discovery_url: clearable(F.discovery_url),
    tenant: clearable(F.tenant),
    client_id: F.client_id,
    scopes: clearable(F.scopes),
    authorization_endpoint: clearable(F.authorization_endpoint),
    token_endpoint: clearable(F.token_endpoint),
    userinfo_endpoint: clearable(F.userinfo_endpoint),
    jwks_uri: clearable(F.jwks_uri),
    link: F.link.unwrap(),
    provision: F.provision.unwrap(),
    claims: F.claims.unwrap(),
    groups_prefix: F.groups_prefix.unwrap(),
    sync_groups: F.sync_groups.unwrap(),
    require_mfa: F.require_mfa.unwrap(),
    allowed_domains: F.allowed_domains.unwrap(),
    hidden: F.hidden.unwrap(),
    client_secret: z.string().min(1).max(4096).nullable(),
  })
  .partial()
  .strict();
export type UpdateUpstreamRequest = z.input<typeof UpdateUpstreamRequest>;

/** An upstream as the admin screens see it: never its secret. */
export const AdminUpstream = UpstreamFields.extend({
  source: z.enum(['config', 'admin']),
  hasSecret: z.boolean(),
  /** Where the upstream must send people back to: register this URL there. */
  callbackUrl: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type AdminUpstream = z.infer<typeof AdminUpstream>;
export const AdminUpstreamList = z.object({ upstreams: z.array(AdminUpstream) });
export type AdminUpstreamList = z.infer<typeof AdminUpstreamList>;

/** `GET /api/v1/upstreams`: the buttons of the sign-in screen (hidden ones left out). */
export const UpstreamButton = z.object({ id: UpstreamId, name: z.string(), type: UpstreamType });
export type UpstreamButton = z.infer<typeof UpstreamButton>;
export const UpstreamButtonList = z.object({ upstreams: z.array(UpstreamButton) });
export type UpstreamButtonList = z.infer<typeof UpstreamButtonList>;

/** A sign-in with an upstream identity linked to an account. */
export const UpstreamLink = z.object({
  upstreamId: z.string(),
  /** The upstream's name, or its id when it is no longer configured. */
  upstreamName: z.string(),
  /** The upstream's `sub` (GitHub: the numeric user id). */
  subject: z.string(),
  email: z.string().nullable(),
  createdAt: z.number().int(),
  lastLoginAt: z.number().int().nullable(),
});
export type UpstreamLink = z.infer<typeof UpstreamLink>;
export const UpstreamLinkList = z.object({ links: z.array(UpstreamLink) });
export type UpstreamLinkList = z.infer<typeof UpstreamLinkList>;

/** `POST /api/v1/me/upstreams/:id/link`: the password again (and a code), like other security changes. */
export const StartUpstreamLinkRequest = z
  .object({ password: z.string().min(1).max(1024).optional(), code: z.string().max(64).optional() })
  .strict();
export type StartUpstreamLinkRequest = z.infer<typeof StartUpstreamLinkRequest>;
/** Where the browser goes next: the upstream's sign-in page. */
export const UpstreamRedirect = z.object({ location: z.string() });
export type UpstreamRedirect = z.infer<typeof UpstreamRedirect>;
