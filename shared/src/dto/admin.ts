import { z } from 'zod';
import { GRANTABLE_SCOPES } from '../oidc/scopes.js';
import { ClientType, ConsentMode, GroupName, LogoUri, RedirectUri, SigningAlg, TokenEndpointAuthMethod } from './client.js';
import { NewPassword } from './me.js';
import { displayText } from './text.js';

/**
 * The admin API (`/api/v1/admin/...`). Users and groups are addressed by id in paths; a user
 * may also be addressed by exact username, never by a partial match. Access policies and
 * invitations name groups, as the `groups` claim does.
 */

export const Username = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'Use 1-64 letters, digits, dots, dashes, underscores or @');
const Email = z.email('Enter a valid email address').max(254);

/** Paging of long lists: `?limit=&offset=`. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const GroupRef = z.object({ id: z.string(), name: z.string() });
export type GroupRef = z.infer<typeof GroupRef>;

// ── Users ─────────────────────────────────────────────────────────────────

export const AdminUser = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  emailVerified: z.boolean(),
  name: z.string().nullable(),
  isAdmin: z.boolean(),
  disabled: z.boolean(),
  totpEnabled: z.boolean(),
  lastLoginAt: z.number().int().nullable(),
  createdAt: z.number().int(),
  /** Direct memberships; the groups claim also carries the groups these are nested in. */
  groups: z.array(GroupRef),
});
export type AdminUser = z.infer<typeof AdminUser>;

/** `GET /api/v1/admin/users?q=&limit=&offset=`: q matches username, name or email (substring). */
export const UserListQuery = PageQuery.extend({ q: z.string().trim().max(128).optional() });
export const AdminUserList = z.object({
  users: z.array(AdminUser),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type AdminUserList = z.infer<typeof AdminUserList>;

/** A one-time link that lets its holder set a password; shown once. */
export const PasswordLink = z.object({ url: z.string(), expiresAt: z.number().int() });
export type PasswordLink = z.infer<typeof PasswordLink>;

/** Without a password, the answer carries a one-time link for the user to set one. */
export const CreateUserRequest = z
  .object({
    username: Username,
    email: Email.nullable().optional(),
    name: displayText(128).nullable().optional(),
    password: NewPassword.optional(),
    isAdmin: z.boolean().default(false),
    /** Group ids of direct memberships. */
    groups: z.array(z.string().max(64)).max(100).default([]),
  })
  .strict();
export type CreateUserRequest = z.input<typeof CreateUserRequest>;
export const CreatedUser = z.object({ user: AdminUser, passwordLink: PasswordLink.optional() });
export type CreatedUser = z.infer<typeof CreatedUser>;

export const UpdateUserRequest = z
  .object({
    username: Username.optional(),
    email: Email.nullable().optional(),
    emailVerified: z.boolean().optional(),
    name: displayText(128).nullable().optional(),
    isAdmin: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'Change at least one field');
export type UpdateUserRequest = z.input<typeof UpdateUserRequest>;

// ── Groups ────────────────────────────────────────────────────────────────

export const AdminGroup = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  /** Members must sign in with a second factor; invitees into it set one up while enrolling. */
  requireMfa: z.boolean(),
  /** Groups this one is nested in: its members are members of those too. */
  parents: z.array(GroupRef),
  memberCount: z.number().int(),
});
export type AdminGroup = z.infer<typeof AdminGroup>;
export const AdminGroupList = z.object({ groups: z.array(AdminGroup) });
export type AdminGroupList = z.infer<typeof AdminGroupList>;

export const CreateGroupRequest = z
  .object({
    name: GroupName,
    description: displayText(256).nullable().optional(),
    requireMfa: z.boolean().default(false),
    /** Parent group ids. */
    parents: z.array(z.string().max(64)).max(50).default([]),
  })
  .strict();
export type CreateGroupRequest = z.input<typeof CreateGroupRequest>;

/** Renames, re-describes or re-nests a group; `parents` replaces the whole list. */
export const UpdateGroupRequest = z
  .object({
    name: GroupName.optional(),
    description: displayText(256).nullable().optional(),
    requireMfa: z.boolean().optional(),
    parents: z.array(z.string().max(64)).max(50).optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'Change at least one field');
export type UpdateGroupRequest = z.input<typeof UpdateGroupRequest>;

export const GroupMember = z.object({ id: z.string(), username: z.string(), name: z.string().nullable() });
export type GroupMember = z.infer<typeof GroupMember>;
export const GroupMemberList = z.object({ members: z.array(GroupMember) });
export type GroupMemberList = z.infer<typeof GroupMemberList>;

// ── Clients (applications) ───────────────────────────────────────────────

export const AdminClient = z.object({
  clientId: z.string(),
  name: z.string(),
  type: ClientType,
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  consent: ConsentMode,
  scopes: z.array(z.string()),
  tokenEndpointAuthMethod: TokenEndpointAuthMethod,
  idTokenSignedResponseAlg: SigningAlg,
  logoUri: z.string().nullable(),
  requireMfa: z.boolean(),
  /** Only members (direct or inherited) of these groups may sign in; empty means everyone. */
  allowedGroups: z.array(z.string()),
  /** `config` clients come from configuration and are read-only here. */
  source: z.enum(['config', 'local']),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type AdminClient = z.infer<typeof AdminClient>;
export const AdminClientList = z.object({ clients: z.array(AdminClient) });
export type AdminClientList = z.infer<typeof AdminClientList>;

const clientFields = {
  name: displayText(128).min(1, 'Enter a name'),
  redirectUris: z.array(RedirectUri).min(1, 'Add at least one redirect URI').max(20),
  postLogoutRedirectUris: z.array(RedirectUri).max(20),
  consent: ConsentMode,
  scopes: z.array(z.enum(GRANTABLE_SCOPES as [string, ...string[]])).refine((s) => s.includes('openid'), 'must include openid'),
  idTokenSignedResponseAlg: SigningAlg,
  logoUri: LogoUri.nullable(),
  requireMfa: z.boolean(),
  /** Group names. */
  allowedGroups: z.array(GroupName).max(50),
};

/** A confidential client gets a generated secret, answered once. */
export const CreateClientRequest = z
  .object({
    /** Generated when absent. */
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 URL-safe characters')
      .optional(),
    type: ClientType.default('confidential'),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod.optional(),
    ...clientFields,
    postLogoutRedirectUris: clientFields.postLogoutRedirectUris.default([]),
    consent: clientFields.consent.default('explicit'),
    scopes: clientFields.scopes.default(['openid', 'profile', 'email', 'groups', 'offline_access']),
    idTokenSignedResponseAlg: clientFields.idTokenSignedResponseAlg.default('RS256'),
    logoUri: clientFields.logoUri.default(null),
    requireMfa: clientFields.requireMfa.default(false),
    allowedGroups: clientFields.allowedGroups.default([]),
  })
  .strict();
export type CreateClientRequest = z.input<typeof CreateClientRequest>;

/** Changing `type` to confidential issues a secret (answered once); to public drops it. */
export const UpdateClientRequest = z
  .object({
    type: ClientType.optional(),
    tokenEndpointAuthMethod: TokenEndpointAuthMethod.optional(),
    name: clientFields.name.optional(),
    redirectUris: clientFields.redirectUris.optional(),
    postLogoutRedirectUris: clientFields.postLogoutRedirectUris.optional(),
    consent: clientFields.consent.optional(),
    scopes: clientFields.scopes.optional(),
    idTokenSignedResponseAlg: clientFields.idTokenSignedResponseAlg.optional(),
    logoUri: clientFields.logoUri.optional(),
    requireMfa: clientFields.requireMfa.optional(),
    allowedGroups: clientFields.allowedGroups.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'Change at least one field');
export type UpdateClientRequest = z.input<typeof UpdateClientRequest>;

/** The secret is here only when one was just made. */
export const ClientWithSecret = z.object({ client: AdminClient, clientSecret: z.string().optional() });
export type ClientWithSecret = z.infer<typeof ClientWithSecret>;

// ── Invitations ──────────────────────────────────────────────────────────

export const InvitationStatus = z.enum(['pending', 'used', 'revoked', 'expired']);
export const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  groups: z.array(z.string()),
  status: InvitationStatus,
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  createdBy: z.string().nullable(),
  /** The account made with it, once used. */
  usedBy: z.string().nullable(),
});
export type Invitation = z.infer<typeof Invitation>;
export const InvitationList = z.object({ invitations: z.array(Invitation) });
export type InvitationList = z.infer<typeof InvitationList>;

export const CreateInvitationRequest = z
  .object({
    email: Email,
    /** Group names the invitee lands in. */
    groups: z.array(GroupName).max(50).default([]),
    expiresInHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 24)
      .default(72),
  })
  .strict();
export type CreateInvitationRequest = z.input<typeof CreateInvitationRequest>;
/** `url` holds the single-use token; it is shown once. */
export const CreatedInvitation = z.object({ invitation: Invitation, url: z.string() });
export type CreatedInvitation = z.infer<typeof CreatedInvitation>;

// ── Audit log ────────────────────────────────────────────────────────────

/** `GET /api/v1/admin/audit`: newest first; `before` is the `id` to continue below. */
export const AuditQuery = z.object({
  event: z
    .string()
    .regex(/^[a-z_]{1,64}$/)
    .optional(),
  /** A user id: events about them or done by them (as the acting admin). */
  user: z.string().max(64).optional(),
  client: z.string().max(128).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  /** Seconds since the epoch, inclusive. */
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof AuditQuery>;

export const AuditEntry = z.object({
  id: z.number().int(),
  at: z.number().int(),
  event: z.string(),
  outcome: z.string(),
  userId: z.string().nullable(),
  /** The admin who did it, for admin actions. */
  actorId: z.string().nullable(),
  clientId: z.string().nullable(),
  ip: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditPage = z.object({ events: z.array(AuditEntry), nextBefore: z.number().int().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
