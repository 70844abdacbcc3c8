/**
 * An EMULATOR of the OpenBao HTTP API, for tests only. It is NOT OpenBao and shares no code with it.
 * It was written from the OpenBao API documentation (openbao.org/api-docs and /docs/concepts), and it
 * covers only the endpoints Gatehouse's OpenBao identity backend calls. Where the docs are silent or
 * disagree with themselves, the choice made is written next to the behaviour below. Time comes from an
 * injectable clock (seconds), so token expiry, MFA request expiry and TOTP steps are deterministic.
 *
 * Endpoints (all under /v1; `X-Vault-Token` or `Authorization: Bearer`; JSON bodies; errors are
 * `{"errors":[...]}`; `LIST` is also accepted as `GET ?list=true`; `PUT` is a synonym of `POST`):
 * - GET|HEAD sys/health (no token): 200 when unsealed and active; 503 with `sealed: true` when sealed
 *   (api-docs/system/health). Every other path answers 503 "Vault is sealed" while sealed.
 * - GET sys/auth: the `token/` and userpass mounts with their accessors, under `data` only
 *   (api-docs/system/auth).
 * - GET auth/token/lookup-self, POST auth/token/create and create-orphan (`ttl`, `policies`, `meta`,
 *   `no_parent`, `no_default_policy`, `display_name`), POST auth/token/renew-self and revoke-self
 *   (api-docs/auth/token). The service token can be periodic (`serviceTokenPeriod`).
 *   A child inherits its parent's entity and dies with it; an orphan has no entity and lives on.
 * - POST auth/<userpass>/login/:username, LIST auth/<userpass>/users,
 *   POST auth/<userpass>/users/:username/password (api-docs/auth/userpass). Usernames are lower-cased.
 * - Login MFA, two-phase only (docs/auth/login-mfa): an enforced login answers `auth.mfa_requirement`;
 *   POST sys/mfa/validate (no token) answers the login's `auth` (api-docs/system/mfa-validate). One
 *   login enforcement, on the whole userpass mount or on members of some identity groups
 *   (api-docs/secret/identity/mfa/login-enforcement), set by the test rather than over HTTP.
 * - GET|POST identity/entity/id/:id, POST identity/lookup/entity (api-docs/secret/identity/entity,
 *   lookup); LIST identity/group/id, GET identity/group/id/:id (api-docs/secret/identity/group).
 * - POST identity/mfa/method/totp/generate | admin-generate | admin-destroy
 *   (api-docs/secret/identity/mfa/totp).
 * - Response wrapping for any 200 JSON answer via `X-Vault-Wrap-TTL`, and POST sys/wrapping/unwrap
 *   (docs/concepts/response-wrapping, api-docs/system/wrapping-unwrap).
 * - POST <kubernetes>/creds/:role (api-docs/secret/kubernetes).
 *
 * Behaviours emulated: token TTLs and revocation of a token's whole tree (children and kubernetes
 * leases) when it expires or is revoked (docs/concepts/tokens); 403 "permission denied" for a missing,
 * expired, revoked or unauthorised token and for tokens of a disabled entity; a path-glob policy model
 * (`root` allows everything; `default` allows the self-service token paths and sys/wrapping; the
 * `gatehouse-user` policy adds token create and create-orphan, TOTP self-enrolment and kubernetes
 * creds); userpass user lockout, on by default with 5 failures / 15 min (docs/concepts/user-lockout);
 * implicit entities on first login (docs/concepts/identity); nested internal groups with inherited
 * membership; TOTP validation with one step of skew either side, refusal of a passcode already used
 * (kept for period × (2 + skew)), and at most 5 validation attempts per entity per period
 * (docs/auth/login-mfa).
 *
 * Choices where the docs are silent or ambiguous: an enforced login asks for MFA even when the entity
 * has no TOTP secret (validation then fails with 403); an MFA request lives 300 s; updating an existing
 * entity answers 204 (the docs' sample shows a body); empty metadata, policies and member lists are
 * `null` as in the docs' samples; sys/auth answers under `data` only; a child token dies when its parent
 * expires or is revoked; kubernetes credentials default to a 3600 s lease; entities made by `addUser`
 * are named `entity_<hex>` (use the alias name, not the entity name, as the username). A `LIST`
 * request is answered on a connection that is then closed, because Node's HTTP parser rejects the verb.
 *
 * Left out: everything else in OpenBao (secrets engines other than the kubernetes creds call, sys/mounts,
 * policy documents and capabilities, namespaces, batch tokens, renewal beyond renew-self, accessor endpoints,
 * token roles, entity merge, external groups, group aliases, single-phase MFA via `X-Vault-MFA`, Duo,
 * Okta and PingID, sys/wrapping/lookup|wrap|rewrap, audit devices, rate-limit quotas, TLS). The
 * `barcode` of a generated TOTP secret is a fixed 1×1 PNG placeholder, not a QR code of the URL.
 * Kubernetes service-account tokens are random, unsigned JWT-shaped strings; no cluster is contacted.
 * Error texts keep the meaning (and the key words clients match on) of OpenBao's, not its exact wording.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generateSecret, generateSync } from 'otplib';

/** Seconds-based time source; `advance` is used when present so one clock can drive Gatehouse and OpenBao. */
export interface EmulatorClock {
  now(): number;
  advance?(seconds: number): void;
}

export type MfaEnforcement = boolean | { groups: string[] };

export interface OpenBaoEmulatorOptions {
  /** Defaults to a manual clock frozen at the real time of start. */
  clock?: EmulatorClock;
  /** The service token's value; a random `s.` token by default. It has the `root` policy and no TTL. */
  serviceToken?: string;
  /** TTL of login tokens, seconds. Default 3600. */
  userTokenTtl?: number;
  /**
   * Makes the service token periodic (docs/concepts/tokens#periodic-tokens): it expires unless
   * renewed within this many seconds, and each renew-self grants the whole period again.
   * Default: no TTL, like a root token.
   */
  serviceTokenPeriod?: number;
  /**
   * The login MFA enforcement: `true` applies it to every login on the userpass mount (its
   * `auth_method_accessors`), `{ groups }` only to members (direct or inherited) of those identity
   * groups (its `identity_group_ids`, given here by name), `false` turns it off. Default true.
   */
  enforceMfa?: MfaEnforcement;
  /** How long a login's MFA request stays valid, seconds. The docs are silent; OpenBao's default is 300. */
  mfaRequestTtl?: number;
  /** Consecutive TOTP validations allowed per entity per period (TOTP method `max_validation_attempts`). Default 5. */
  totpMaxValidationAttempts?: number;
  /** Issuer of the TOTP method, used in the otpauth URL. Default "OpenBao". */
  totpIssuer?: string;
  /** Mount paths, without slashes. Defaults "userpass" and "kubernetes". */
  userpassMount?: string;
  kubernetesMount?: string;
  /** Policies attached to every userpass user's tokens (plus `default`). Default ["gatehouse-user"]. */
  userPolicies?: string[];
  /** User lockout on the userpass mount; `false` disables it. Defaults per docs: 5 failures, 900 s, 900 s. */
  userLockout?: { threshold: number; durationSeconds: number; counterResetSeconds: number } | false;
}

export interface AddUserOptions {
  name?: string;
  email?: string;
  /** More entity metadata, e.g. `email_verified`. */
  metadata?: Record<string, string>;
  /** Names of groups created with `addGroup`; the entity becomes a direct member. */
  groups?: string[];
  /** Extra policies for this user's tokens. */
  policies?: string[];
  /** Entity id (a UUID). Random by default; fixed ids let one test suite name the same user on either backend. */
  id?: string;
  /** Entity name. Default `entity_<8 hex>`, the shape OpenBao gives implicit entities. */
  entityName?: string;
  /** `false`: create only the userpass user; the entity appears on first login (implicit entity). */
  entity?: boolean;
}

export type TokenKind = 'service' | 'login' | 'child' | 'wrapping';
export type RevokeReason = 'revoke-self' | 'expired' | 'parent' | 'used';

export interface TokenView {
  id: string;
  accessor: string;
  kind: TokenKind;
  policies: string[];
  entityId: string;
  displayName: string;
  path: string;
  meta: Record<string, string>;
  issuedAt: number;
  /** Absolute expiry (seconds), or null for a token without TTL. */
  expiresAt: number | null;
  parentAccessor: string | null;
  revoked: RevokeReason | null;
}

export interface UserView {
  username: string;
  entityId: string | null;
  totpEnrolled: boolean;
  lockedUntil: number | null;
}

export interface EntityView {
  id: string;
  name: string;
  metadata: Record<string, string>;
  directGroupIds: string[];
  inheritedGroupIds: string[];
  disabled: boolean;
  totpEnrolled: boolean;
}

export interface GroupView {
  id: string;
  name: string;
  memberEntityIds: string[];
  memberGroupIds: string[];
}

export interface LeaseView {
  leaseId: string;
  role: string;
  namespace: string;
  serviceAccountName: string;
  serviceAccountToken: string;
  expiresAt: number;
  creatorAccessor: string;
  revoked: boolean;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  /** Kind of the presented token; `invalid` for one that was unknown, expired or revoked. */
  token: TokenKind | 'none' | 'invalid';
}

export interface OpenBaoEmulator {
  /** Base address, e.g. `http://127.0.0.1:41234` (no `/v1`). */
  readonly url: string;
  readonly serviceToken: string;
  /** UUID of the TOTP login MFA method. */
  readonly mfaMethodId: string;
  readonly mfaMethodName: string;
  /** Name of the login enforcement, the key of `mfa_constraints`. */
  readonly mfaEnforcementName: string;
  readonly userpassMount: string;
  readonly userpassAccessor: string;
  readonly kubernetesMount: string;
  /** TTL of tokens issued by later logins, seconds. */
  userTokenTtl: number;
  now(): number;
  advance(seconds: number): void;
  /** `sealed` (default): sys/health answers 503 sealed, every other path 503. `refuse`: connections are dropped. */
  setUnreachable(on: boolean, mode?: 'sealed' | 'refuse'): void;
  stop(): Promise<void>;

  /** Creates a userpass user and (unless `entity: false`) its entity and alias; answers the entity id (or ''). */
  addUser(username: string, password: string, options?: AddUserOptions): string;
  /** Creates an internal group; `parents` are names of groups that get this one in `member_group_ids`. */
  addGroup(name: string, options?: { parents?: string[]; policies?: string[] }): string;
  /** Stores a TOTP secret on the user's entity, like admin-generate; answers the base32 secret. */
  enrolTotp(username: string): string;
  /** The TOTP passcode for `secret` at the emulator clock, `steps` periods away. */
  totp(secret: string, steps?: number): string;
  enforceMfa(enforcement: MfaEnforcement): void;
  addKubernetesRole(name: string, options?: { allowedNamespaces?: string[]; serviceAccountName?: string; tokenDefaultTtl?: number }): void;
  /** Adds a policy: a list of path globs (`*` suffix = prefix match, `+` = one segment). */
  addPolicy(name: string, paths: string[]): void;
  setEntityDisabled(entityId: string, disabled: boolean): void;
  /** An OpenBao admin's edit of a group (as `identity/group/id/:id` updates do): entity members and parent groups, by name. */
  setGroupMember(groupName: string, entityId: string, member: boolean): void;
  setGroupParents(groupName: string, parents: string[]): void;

  readonly tokens: TokenView[];
  readonly revokedTokens: TokenView[];
  readonly users: UserView[];
  readonly entities: EntityView[];
  readonly groups: GroupView[];
  readonly leases: LeaseView[];
  readonly requests: RequestLogEntry[];
}

interface TokenEntry {
  id: string;
  accessor: string;
  kind: TokenKind;
  policies: string[];
  entityId: string;
  displayName: string;
  path: string;
  meta: Record<string, string>;
  issuedAt: number;
  ttl: number;
  /** Periodic tokens only: the period, and when it last started (issue or renewal). */
  period?: number;
  renewedAt?: number;
  usesLeft: number | null;
  parent: string | null;
  children: Set<string>;
  revoked: RevokeReason | null;
  wrapped?: Record<string, unknown>;
}

interface TotpSecret {
  secret: string;
  period: number;
  digits: 6;
  skew: 1;
}

interface Entity {
  id: string;
  name: string;
  metadata: Record<string, string>;
  policies: string[];
  disabled: boolean;
  aliases: { id: string; name: string; mountAccessor: string; createdAt: number }[];
  mfaSecret: TotpSecret | null;
  createdAt: number;
  updatedAt: number;
}

interface Group {
  id: string;
  name: string;
  policies: string[];
  memberEntityIds: string[];
  memberGroupIds: string[];
  createdAt: number;
  updatedAt: number;
  modifyIndex: number;
}

interface User {
  username: string;
  passwordHash: string;
  policies: string[];
  entityId: string | null;
}

interface PendingMfa {
  id: string;
  username: string;
  entityId: string;
  expiresAt: number;
}

interface Lease extends LeaseView {
  creatorToken: string;
}

interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Reply {
  status: number;
  body?: Record<string, unknown>;
}

interface RequestContext {
  method: string;
  path: string;
  params: string[];
  body: Record<string, unknown>;
  token: TokenEntry | null;
  rawToken: string;
}

type Handler = (ctx: RequestContext) => Reply;

interface Route {
  methods: string[];
  pattern: RegExp;
  auth: 'none' | 'token' | 'unwrap';
  handler: Handler;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

const denied = () => new ApiError(403, ['permission denied']);
const badRequest = (message: string) => new ApiError(400, [message]);
const notFound = () => new ApiError(404, []);

/** A valid 1×1 transparent PNG, standing in for the QR code OpenBao renders. */
const PLACEHOLDER_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const SYSTEM_DEFAULT_TTL = 32 * 24 * 3600;
const TOTP_PERIOD = 30;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const BUILTIN_POLICIES: Record<string, string[]> = {
  root: ['*'],
  // The parts of OpenBao's `default` policy that matter here (docs/concepts/policies).
  default: ['auth/token/lookup-self', 'auth/token/renew-self', 'auth/token/revoke-self', 'sys/wrapping/*'],
  'response-wrapping': ['sys/wrapping/unwrap', 'sys/wrapping/lookup'],
};

function randomString(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALNUM[byte % ALNUM.length];
  return out;
}

function hashPassword(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Seconds from an integer or a duration string ("90", "1h", "1h30m", "15s", "2d"); null when invalid. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string' || value === '') return null;
  if (/^\d+$/.test(value)) return Number(value);
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match) return null;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

function globMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  const prefix = pattern.endsWith('*');
  const patternSegments = (prefix ? pattern.slice(0, -1) : pattern).split('/');
  const pathSegments = path.split('/');
  if (!prefix && patternSegments.length !== pathSegments.length) return false;
  for (const [i, segment] of patternSegments.entries()) {
    const actual = pathSegments[i];
    if (actual === undefined) return false;
    const last = i === patternSegments.length - 1;
    if (segment === '+') continue;
    if (prefix && last ? !actual.startsWith(segment) : actual !== segment) return false;
  }
  return true;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`failed to parse ${field}: expected a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest(`failed to parse ${field}: value of "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

function stringList(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value === '' ? [] : value.split(',').map((v) => v.trim());
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return null;
}

/** Starts an emulator on 127.0.0.1 on a free port. */
export async function startOpenBaoEmulator(options: OpenBaoEmulatorOptions = {}): Promise<OpenBaoEmulator> {
  let manualNow = Math.floor(Date.now() / 1000);
  const clock: Required<EmulatorClock> = options.clock
    ? {
        now: () => options.clock!.now(),
        advance: (s) => {
          if (!options.clock!.advance) throw new Error('the injected clock has no advance(); move it directly');
          options.clock!.advance(s);
        },
      }
    : { now: () => manualNow, advance: (s) => void (manualNow += s) };
  const now = () => clock.now();

  const userpassMount = options.userpassMount ?? 'userpass';
  const kubernetesMount = options.kubernetesMount ?? 'kubernetes';
  const userpassAccessor = `auth_userpass_${randomBytes(4).toString('hex')}`;
  const tokenAccessor = `auth_token_${randomBytes(4).toString('hex')}`;
  const mfaMethodId = randomUUID();
  const mfaMethodName = 'totp';
  const mfaEnforcementName = `${userpassMount}-totp`;
  const totpIssuer = options.totpIssuer ?? 'OpenBao';
  const mfaRequestTtl = options.mfaRequestTtl ?? 300;
  const maxTotpAttempts = options.totpMaxValidationAttempts ?? 5;
  const lockout =
    options.userLockout === false ? null : (options.userLockout ?? { threshold: 5, durationSeconds: 900, counterResetSeconds: 900 });
  const userPolicies = options.userPolicies ?? ['gatehouse-user'];

  const policies: Record<string, string[]> = {
    ...BUILTIN_POLICIES,
    'gatehouse-user': ['auth/token/create', 'auth/token/create-orphan', 'identity/mfa/method/totp/generate', `${kubernetesMount}/creds/+`],
  };
  const tokens = new Map<string, TokenEntry>();
  const users = new Map<string, User>();
  const entities = new Map<string, Entity>();
  const groups = new Map<string, Group>();
  const pendingMfa = new Map<string, PendingMfa>();
  const usedCodes = new Map<string, number>();
  const totpAttempts = new Map<string, { count: number; expiresAt: number }>();
  const failedLogins = new Map<string, { count: number; lastAt: number; lockedUntil: number | null }>();
  const kubernetesRoles = new Map<string, { allowedNamespaces: string[]; serviceAccountName?: string; tokenDefaultTtl: number }>();
  const leases: Lease[] = [];
  const requestLog: RequestLogEntry[] = [];
  let mfaEnforcement: MfaEnforcement = options.enforceMfa ?? true;
  let unreachable: 'sealed' | 'refuse' | null = null;
  const clusterId = randomUUID();

  const service = createToken({
    id: options.serviceToken,
    kind: 'service',
    policies: ['root'],
    entityId: '',
    displayName: 'root',
    path: 'auth/token/root',
    meta: {},
    ttl: options.serviceTokenPeriod ?? 0,
    parent: null,
  });
  if (options.serviceTokenPeriod) service.period = options.serviceTokenPeriod;

  function createToken(spec: {
    id?: string;
    kind: TokenKind;
    policies: string[];
    entityId: string;
    displayName: string;
    path: string;
    meta: Record<string, string>;
    ttl: number;
    parent: TokenEntry | null;
    usesLeft?: number;
  }): TokenEntry {
    const entry: TokenEntry = {
      id: spec.id ?? `s.${randomString(24)}`,
      accessor: randomString(24),
      kind: spec.kind,
      policies: uniqueSorted(spec.policies),
      entityId: spec.entityId,
      displayName: spec.displayName,
      path: spec.path,
      meta: spec.meta,
      issuedAt: now(),
      ttl: spec.ttl,
      usesLeft: spec.usesLeft ?? null,
      parent: spec.parent?.id ?? null,
      children: new Set(),
      revoked: null,
    };
    tokens.set(entry.id, entry);
    spec.parent?.children.add(entry.id);
    return entry;
  }

  const expiresAt = (t: TokenEntry) => (t.period ? (t.renewedAt ?? t.issuedAt) + t.period : t.ttl === 0 ? null : t.issuedAt + t.ttl);

  /** docs/concepts/tokens: revoking (or expiring) a token revokes its children and the leases it created. */
  function revokeTree(token: TokenEntry, reason: RevokeReason): void {
    if (token.revoked) return;
    token.revoked = reason;
    for (const lease of leases) if (lease.creatorToken === token.id) lease.revoked = true;
    for (const childId of token.children) {
      const child = tokens.get(childId);
      if (child) revokeTree(child, 'parent');
    }
  }

  function sweep(): void {
    const t = now();
    for (const token of tokens.values()) {
      const exp = expiresAt(token);
      if (!token.revoked && exp !== null && t >= exp) revokeTree(token, 'expired');
    }
    for (const lease of leases) if (lease.expiresAt <= t) lease.revoked = true;
    for (const [id, request] of pendingMfa) if (request.expiresAt <= t) pendingMfa.delete(id);
    for (const [key, until] of usedCodes) if (until <= t) usedCodes.delete(key);
    for (const [key, attempts] of totpAttempts) if (attempts.expiresAt <= t) totpAttempts.delete(key);
  }

  function liveToken(raw: string): TokenEntry | null {
    const token = raw ? tokens.get(raw) : undefined;
    if (!token || token.revoked) return null;
    return token;
  }

  function consumeUse(token: TokenEntry): void {
    if (token.usesLeft === null) return;
    token.usesLeft -= 1;
    if (token.usesLeft <= 0) revokeTree(token, 'used');
  }

  function allowed(token: TokenEntry, path: string): boolean {
    const names = [...token.policies, ...identityPolicies(token.entityId)];
    return names.some((name) => (policies[name] ?? []).some((pattern) => globMatches(pattern, path)));
  }

  function groupsOfEntity(entityId: string): { direct: Group[]; inherited: Group[] } {
    const direct = [...groups.values()].filter((g) => g.memberEntityIds.includes(entityId));
    const seen = new Set(direct.map((g) => g.id));
    const inherited: Group[] = [];
    const queue = [...direct];
    while (queue.length > 0) {
      const child = queue.shift()!;
      for (const parent of groups.values()) {
        if (parent.memberGroupIds.includes(child.id) && !seen.has(parent.id)) {
          seen.add(parent.id);
          inherited.push(parent);
          queue.push(parent);
        }
      }
    }
    return { direct, inherited };
  }

  function identityPolicies(entityId: string): string[] {
    const entity = entities.get(entityId);
    if (!entity) return [];
    const { direct, inherited } = groupsOfEntity(entityId);
    return uniqueSorted([...entity.policies, ...direct.flatMap((g) => g.policies), ...inherited.flatMap((g) => g.policies)]);
  }

  function newEntity(name: string | undefined, metadata: Record<string, string>, id: string = randomUUID()): Entity {
    if (entities.has(id)) throw new Error(`entity "${id}" exists`);
    const t = now();
    const entity: Entity = {
      id,
      name: name ?? `entity_${randomBytes(4).toString('hex')}`,
      metadata,
      policies: [],
      disabled: false,
      aliases: [],
      mfaSecret: null,
      createdAt: t,
      updatedAt: t,
    };
    entities.set(entity.id, entity);
    return entity;
  }

  function attachAlias(entity: Entity, username: string): void {
    entity.aliases.push({ id: randomUUID(), name: username, mountAccessor: userpassAccessor, createdAt: now() });
  }

  /** Whether a login of this entity is subject to the login MFA enforcement. */
  function mfaEnforced(entityId: string): boolean {
    if (typeof mfaEnforcement === 'boolean') return mfaEnforcement;
    const { direct, inherited } = groupsOfEntity(entityId);
    const names = new Set(mfaEnforcement.groups);
    return [...direct, ...inherited].some((g) => names.has(g.name));
  }

  function entityOf(user: User): Entity {
    if (user.entityId) {
      const existing = entities.get(user.entityId);
      if (existing) return existing;
    }
    // docs/concepts/identity: a successful login without an entity creates one, with an alias.
    const entity = newEntity(undefined, {});
    attachAlias(entity, user.username);
    user.entityId = entity.id;
    return entity;
  }

  function entityByAlias(name: string, mountAccessor: string): Entity | undefined {
    return [...entities.values()].find((e) => e.aliases.some((a) => a.name === name && a.mountAccessor === mountAccessor));
  }

  function envelope(fields: Record<string, unknown>): Record<string, unknown> {
    return {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: null,
      warnings: null,
      auth: null,
      ...fields,
    };
  }

  function authBlock(token: TokenEntry): Record<string, unknown> {
    const identity = identityPolicies(token.entityId);
    return {
      client_token: token.id,
      accessor: token.accessor,
      policies: uniqueSorted([...token.policies, ...identity]),
      token_policies: token.policies,
      identity_policies: identity.length > 0 ? identity : null,
      metadata: Object.keys(token.meta).length > 0 ? token.meta : null,
      lease_duration: token.ttl,
      renewable: token.ttl > 0,
      entity_id: token.entityId,
      token_type: 'service',
      orphan: token.parent === null,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  function loginToken(user: User, entity: Entity): TokenEntry {
    return createToken({
      kind: 'login',
      policies: ['default', ...user.policies],
      entityId: entity.id,
      displayName: `${userpassMount}-${user.username}`,
      path: `auth/${userpassMount}/login/${user.username}`,
      meta: { username: user.username },
      ttl: emulator.userTokenTtl,
      parent: null,
    });
  }

  function entityData(entity: Entity): Record<string, unknown> {
    const { direct, inherited } = groupsOfEntity(entity.id);
    return {
      id: entity.id,
      name: entity.name,
      metadata: Object.keys(entity.metadata).length > 0 ? entity.metadata : null,
      merged_entity_ids: null,
      policies: entity.policies.length > 0 ? entity.policies : null,
      disabled: entity.disabled,
      namespace_id: 'root',
      creation_time: rfc3339(entity.createdAt),
      last_update_time: rfc3339(entity.updatedAt),
      aliases: entity.aliases.map((alias) => ({
        id: alias.id,
        canonical_id: entity.id,
        mount_accessor: alias.mountAccessor,
        mount_path: `auth/${userpassMount}/`,
        mount_type: 'userpass',
        name: alias.name,
        metadata: null,
        custom_metadata: null,
        merged_from_canonical_ids: null,
        local: false,
        creation_time: rfc3339(alias.createdAt),
        last_update_time: rfc3339(alias.createdAt),
      })),
      // api-docs/secret/identity/entity: group_ids is the direct and the inherited groups together.
      direct_group_ids: direct.map((g) => g.id),
      inherited_group_ids: inherited.map((g) => g.id),
      group_ids: [...direct, ...inherited].map((g) => g.id),
    };
  }

  function groupData(group: Group): Record<string, unknown> {
    const parents = [...groups.values()].filter((g) => g.memberGroupIds.includes(group.id)).map((g) => g.id);
    return {
      id: group.id,
      name: group.name,
      type: 'internal',
      alias: {},
      metadata: null,
      policies: group.policies.length > 0 ? group.policies : null,
      member_entity_ids: group.memberEntityIds,
      member_group_ids: group.memberGroupIds.length > 0 ? group.memberGroupIds : null,
      parent_group_ids: parents.length > 0 ? parents : null,
      modify_index: group.modifyIndex,
      namespace_id: 'root',
      creation_time: rfc3339(group.createdAt),
      last_update_time: rfc3339(group.updatedAt),
    };
  }

  function ok(data: unknown, extra: Record<string, unknown> = {}): Reply {
    return { status: 200, body: envelope({ data, ...extra }) };
  }

  const noContent: Reply = { status: 204 };

  function listReply(keys: string[], keyInfo?: Record<string, unknown>): Reply {
    // api-docs (HTTP status codes): a LIST with no results answers 404.
    if (keys.length === 0) throw notFound();
    return ok(keyInfo ? { keys, key_info: keyInfo } : { keys });
  }

  function totpCodes(secret: TotpSecret): string[] {
    const step = Math.floor(now() / secret.period);
    return [-1, 0, 1].map((d) => generateSync({ secret: secret.secret, epoch: (step + d) * secret.period, period: secret.period }));
  }

  function newTotpSecret(entity: Entity): { url: string; secret: string } {
    const secret = generateSecret({ length: 20 });
    entity.mfaSecret = { secret, period: TOTP_PERIOD, digits: 6, skew: 1 };
    entity.updatedAt = now();
    const query = new URLSearchParams({ algorithm: 'SHA1', digits: '6', issuer: totpIssuer, period: String(TOTP_PERIOD), secret });
    // OpenBao labels the key `issuer:entity_id`, not with the username.
    const url = `otpauth://totp/${encodeURIComponent(totpIssuer)}:${entity.id}?${query.toString()}`;
    return { url, secret };
  }

  function generateTotp(methodId: unknown, entityId: string): Reply {
    if (typeof methodId !== 'string' || methodId === '') throw badRequest('missing method ID');
    if (entityId === '') throw badRequest('missing entityID');
    if (methodId !== mfaMethodId) throw badRequest(`configuration for method ID "${methodId}" does not exist`);
    const entity = entities.get(entityId);
    if (!entity) throw badRequest('invalid entity ID');
    // api-docs/secret/identity/mfa/totp: an existing secret is kept; it must be destroyed first.
    // OpenBao then answers 200 with no data and a warning.
    if (entity.mfaSecret) return ok(null, { warnings: [`Entity already has a secret for MFA method "${mfaMethodName}"`] });
    const { url } = newTotpSecret(entity);
    return ok({ barcode: PLACEHOLDER_PNG, url });
  }

  /** docs/auth/login-mfa and api-docs/system/mfa-validate; the reason is only used in the 403 message. */
  function validateTotp(request: PendingMfa, payload: Record<string, unknown>): string | null {
    const creds = payload[mfaMethodId] ?? payload[mfaMethodName];
    if (!Array.isArray(creds)) return `login MFA validation failed for methodID: [${mfaMethodId}]`;
    const entity = entities.get(request.entityId);
    if (!entity) return 'entity not found';
    if (!entity.mfaSecret) return `MFA secret for method name "${mfaMethodName}" not present in entity "${entity.id}"`;
    const passcodes = creds
      .filter((c): c is string => typeof c === 'string' && c !== '')
      .map((c) => (c.startsWith('passcode=') ? c.slice('passcode='.length) : c));
    if (passcodes.length > 1) return 'found multiple passcodes for the same MFA method';
    const passcode = passcodes[0];
    if (!passcode) return 'MFA credentials not supplied';
    const secret = entity.mfaSecret;
    const usedKey = `${mfaMethodId}_${passcode}`;
    if (usedCodes.has(usedKey)) return `code already used; new code is available in ${secret.period} seconds`;
    const attemptsKey = `${mfaMethodId}_${entity.id}`;
    const attempts = totpAttempts.get(attemptsKey);
    if (!attempts) totpAttempts.set(attemptsKey, { count: 1, expiresAt: now() + secret.period });
    else if (attempts.count >= maxTotpAttempts) return `maximum TOTP validation attempts exceeded; try again in ${secret.period} seconds`;
    else attempts.count += 1;
    if (!totpCodes(secret).includes(passcode)) return 'failed to validate TOTP passcode';
    usedCodes.set(usedKey, now() + secret.period * (2 + secret.skew));
    totpAttempts.delete(attemptsKey);
    return null;
  }

  function checkLockout(username: string): void {
    if (!lockout) return;
    const state = failedLogins.get(username);
    if (!state) return;
    if (state.lockedUntil !== null && now() < state.lockedUntil) throw denied();
    if (state.lockedUntil !== null || now() - state.lastAt >= lockout.counterResetSeconds) failedLogins.delete(username);
  }

  function recordFailedLogin(username: string): void {
    if (!lockout) return;
    const state = failedLogins.get(username) ?? { count: 0, lastAt: now(), lockedUntil: null };
    state.count += 1;
    state.lastAt = now();
    if (state.count >= lockout.threshold) state.lockedUntil = now() + lockout.durationSeconds;
    failedLogins.set(username, state);
  }

  function wrap(reply: Reply, ttl: number, path: string): Reply {
    const body = reply.body ?? {};
    const wrapping = createToken({
      kind: 'wrapping',
      policies: ['response-wrapping'],
      entityId: '',
      displayName: '',
      path,
      meta: {},
      ttl,
      parent: null,
      usesLeft: 1,
    });
    wrapping.wrapped = body;
    const auth = body.auth as { accessor?: string } | null | undefined;
    const wrapInfo: Record<string, unknown> = {
      token: wrapping.id,
      accessor: wrapping.accessor,
      ttl,
      creation_time: rfc3339(wrapping.issuedAt),
      creation_path: path,
    };
    if (auth?.accessor) wrapInfo.wrapped_accessor = auth.accessor;
    return { status: 200, body: envelope({ wrap_info: wrapInfo }) };
  }

  const up = userpassMount.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const km = kubernetesMount.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const routes: Route[] = [
    {
      methods: ['GET'],
      pattern: /^sys\/health$/,
      auth: 'none',
      handler: () => ({ status: 200, body: healthBody(false) }),
    },
    {
      methods: ['GET'],
      pattern: /^sys\/auth$/,
      auth: 'token',
      handler: () => {
        const mount = (type: string, accessor: string, description: string) => ({
          accessor,
          type,
          description,
          config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, token_type: 'default-service' },
          local: false,
          seal_wrap: false,
          external_entropy_access: false,
          options: null,
          uuid: randomUUID(),
        });
        return ok({
          'token/': mount('token', tokenAccessor, 'token based credentials'),
          [`${userpassMount}/`]: mount('userpass', userpassAccessor, ''),
        });
      },
    },
    {
      methods: ['GET'],
      pattern: /^auth\/token\/lookup-self$/,
      auth: 'token',
      handler: ({ token }) => {
        const t = token!;
        const exp = expiresAt(t);
        const identity = identityPolicies(t.entityId);
        return ok({
          accessor: t.accessor,
          creation_time: t.issuedAt,
          creation_ttl: t.ttl,
          display_name: t.displayName,
          entity_id: t.entityId,
          expire_time: exp === null ? null : rfc3339(exp),
          explicit_max_ttl: 0,
          id: t.id,
          identity_policies: identity.length > 0 ? identity : null,
          issue_time: rfc3339(t.issuedAt),
          meta: Object.keys(t.meta).length > 0 ? t.meta : null,
          num_uses: 0,
          orphan: t.parent === null,
          path: t.path,
          period: t.period ?? null,
          policies: t.policies,
          renewable: t.ttl > 0,
          ttl: exp === null ? 0 : Math.max(0, exp - now()),
          type: 'service',
        });
      },
    },
    {
      // api-docs/auth/token#renew-a-token-self: a periodic token gets its whole period again; a
      // token with a TTL is not extended past it here (no max-TTL model); one without is refused.
      methods: ['POST'],
      pattern: /^auth\/token\/renew-self$/,
      auth: 'token',
      handler: ({ token }) => {
        const t = token!;
        if (t.ttl === 0) throw badRequest('lease is not renewable');
        if (t.period) t.renewedAt = now();
        return { status: 200, body: envelope({ auth: authBlock(t) }) };
      },
    },
    {
      methods: ['POST'],
      pattern: /^auth\/token\/create(-orphan)?$/,
      auth: 'token',
      handler: ({ token, body, path }) => {
        const parent = token!;
        const requestedTtl = body.ttl === undefined || body.ttl === '' ? 0 : parseDuration(body.ttl);
        if (requestedTtl === null) throw badRequest('invalid ttl');
        const requested = stringList(body.policies);
        if (body.policies !== undefined && requested === null) throw badRequest('policies must be a list of strings');
        const isRoot = parent.policies.includes('root');
        // docs/concepts/tokens: create-orphan is governed by its own ACL; `no_parent` needs root (or sudo).
        if (body.no_parent === true && !isRoot) throw badRequest('root or sudo privileges required to create orphan token');
        const orphan = path.endsWith('-orphan') || body.no_parent === true;
        const base = requested ?? parent.policies;
        if (!isRoot && base.some((p) => p !== 'default' && !parent.policies.includes(p))) {
          throw badRequest('child policies must be subset of parent');
        }
        const childPolicies = body.no_default_policy === true ? base.filter((p) => p !== 'default') : [...base, 'default'];
        // api-docs/auth/token: without `ttl` the default lease TTL applies, or none for a root token.
        const ttl = requestedTtl !== 0 ? requestedTtl : childPolicies.includes('root') ? 0 : SYSTEM_DEFAULT_TTL;
        const displayName = typeof body.display_name === 'string' && body.display_name !== '' ? `token-${body.display_name}` : 'token';
        // Only a token with a parent inherits the parent's entity; an orphan has none.
        const child = createToken({
          kind: 'child',
          policies: childPolicies,
          entityId: orphan ? '' : parent.entityId,
          displayName,
          path,
          meta: stringMap(body.meta, 'meta'),
          ttl,
          parent: orphan ? null : parent,
        });
        return ok(null, { auth: authBlock(child) });
      },
    },
    {
      methods: ['POST'],
      pattern: /^auth\/token\/revoke-self$/,
      auth: 'token',
      handler: ({ token }) => {
        revokeTree(token!, 'revoke-self');
        return noContent;
      },
    },
    {
      methods: ['POST'],
      pattern: new RegExp(`^auth/${up}/login/([^/]+)$`),
      auth: 'none',
      handler: ({ params, body }) => {
        const username = params[0]!.toLowerCase();
        checkLockout(username);
        const user = users.get(username);
        const password = typeof body.password === 'string' ? body.password : '';
        if (!user || !sameHash(user.passwordHash, hashPassword(password))) {
          recordFailedLogin(username);
          throw badRequest('invalid username or password');
        }
        failedLogins.delete(username);
        const entity = entityOf(user);
        // docs/auth/login-mfa: a login matching an enforcement is subject to MFA whether or not the
        // entity has a TOTP secret; without one, validation fails later.
        if (mfaEnforced(entity.id)) {
          const request: PendingMfa = { id: randomUUID(), username, entityId: entity.id, expiresAt: now() + mfaRequestTtl };
          pendingMfa.set(request.id, request);
          return ok(null, {
            warnings: ['This login is subject to MFA validation: complete it with a request to sys/mfa/validate.'],
            auth: {
              client_token: '',
              accessor: '',
              policies: null,
              token_policies: null,
              identity_policies: null,
              metadata: null,
              orphan: false,
              entity_id: '',
              lease_duration: 0,
              renewable: false,
              mfa_requirement: {
                mfa_request_id: request.id,
                mfa_constraints: {
                  [mfaEnforcementName]: { any: [{ type: 'totp', id: mfaMethodId, uses_passcode: true, name: mfaMethodName }] },
                },
              },
            },
          });
        }
        return ok(null, { auth: authBlock(loginToken(user, entity)) });
      },
    },
    {
      methods: ['POST'],
      pattern: /^sys\/mfa\/validate$/,
      auth: 'none',
      handler: ({ body }) => {
        const requestId = body.mfa_request_id;
        if (typeof requestId !== 'string' || requestId === '') throw badRequest('missing request ID');
        const payload = body.mfa_payload;
        if (payload === undefined || payload === null) throw badRequest('missing mfa payload');
        if (typeof payload !== 'object' || Array.isArray(payload)) throw badRequest('invalid mfa payload');
        const request = pendingMfa.get(requestId);
        if (!request) throw badRequest('invalid request ID');
        const failure = validateTotp(request, payload as Record<string, unknown>);
        // A failed validation keeps the request, so the user can retry until it expires.
        if (failure) throw new ApiError(403, [`failed to satisfy enforcement ${mfaEnforcementName}. error: ${failure}`]);
        pendingMfa.delete(requestId);
        const user = users.get(request.username);
        const entity = entities.get(request.entityId);
        if (!user || !entity) throw badRequest('invalid request ID');
        return ok(null, { auth: authBlock(loginToken(user, entity)) });
      },
    },
    {
      methods: ['LIST'],
      pattern: new RegExp(`^auth/${up}/users$`),
      auth: 'token',
      handler: () => listReply([...users.keys()].sort()),
    },
    {
      methods: ['POST'],
      pattern: new RegExp(`^auth/${up}/users/([^/]+)/password$`),
      auth: 'token',
      handler: ({ params, body }) => {
        const user = users.get(params[0]!.toLowerCase());
        if (!user) throw badRequest('username does not exist');
        if (typeof body.password !== 'string' || body.password === '') throw badRequest('missing password');
        user.passwordHash = hashPassword(body.password);
        return noContent;
      },
    },
    {
      methods: ['GET', 'POST'],
      pattern: /^identity\/entity\/id\/([^/]+)$/,
      auth: 'token',
      handler: ({ method, params, body }) => {
        const entity = entities.get(params[0]!);
        if (method === 'GET') {
          if (!entity) throw notFound();
          return ok(entityData(entity));
        }
        if (!entity) throw badRequest('entity not found from id');
        if (body.metadata !== undefined) entity.metadata = stringMap(body.metadata, 'metadata');
        if (typeof body.name === 'string' && body.name !== '') entity.name = body.name;
        if (typeof body.disabled === 'boolean') entity.disabled = body.disabled;
        const newPolicies = stringList(body.policies);
        if (newPolicies) entity.policies = uniqueSorted(newPolicies);
        entity.updatedAt = now();
        // The docs' sample shows a body, but OpenBao answers an update of an existing entity with 204.
        return noContent;
      },
    },
    {
      methods: ['POST'],
      pattern: /^identity\/lookup\/entity$/,
      auth: 'token',
      handler: ({ body }) => {
        const given = ['id', 'name', 'alias_id', 'alias_name', 'alias_mount_accessor'].filter(
          (k) => typeof body[k] === 'string' && body[k] !== '',
        );
        const aliasPair = given.length === 2 && given.includes('alias_name') && given.includes('alias_mount_accessor');
        if (given.length === 0) throw badRequest('query parameter not supplied');
        if (given.length > 1 && !aliasPair) throw badRequest('query parameter conflict; please supply distinct set of query parameters');
        if (!aliasPair && (given[0] === 'alias_name' || given[0] === 'alias_mount_accessor')) {
          throw badRequest("both 'alias_name' and 'alias_mount_accessor' needs to be set");
        }
        let entity: Entity | undefined;
        if (aliasPair) entity = entityByAlias(body.alias_name as string, body.alias_mount_accessor as string);
        else if (given[0] === 'id') entity = entities.get(body.id as string);
        else if (given[0] === 'name') entity = [...entities.values()].find((e) => e.name === body.name);
        else entity = [...entities.values()].find((e) => e.aliases.some((a) => a.id === body.alias_id));
        // No match: OpenBao answers 204 with no body.
        return entity ? ok(entityData(entity)) : noContent;
      },
    },
    {
      methods: ['LIST'],
      pattern: /^identity\/group\/id$/,
      auth: 'token',
      handler: () => {
        const all = [...groups.values()];
        const keyInfo = Object.fromEntries(
          all.map((g) => [
            g.id,
            {
              name: g.name,
              num_member_entities: g.memberEntityIds.length,
              num_parent_groups: all.filter((p) => p.memberGroupIds.includes(g.id)).length,
            },
          ]),
        );
        return listReply(
          all.map((g) => g.id),
          keyInfo,
        );
      },
    },
    {
      methods: ['GET'],
      pattern: /^identity\/group\/id\/([^/]+)$/,
      auth: 'token',
      handler: ({ params }) => {
        const group = groups.get(params[0]!);
        if (!group) throw notFound();
        return ok(groupData(group));
      },
    },
    {
      methods: ['POST'],
      pattern: /^identity\/mfa\/method\/totp\/generate$/,
      auth: 'token',
      handler: ({ token, body }) => generateTotp(body.method_id, token!.entityId),
    },
    {
      methods: ['POST'],
      pattern: /^identity\/mfa\/method\/totp\/admin-generate$/,
      auth: 'token',
      handler: ({ body }) => generateTotp(body.method_id, typeof body.entity_id === 'string' ? body.entity_id : ''),
    },
    {
      methods: ['POST'],
      pattern: /^identity\/mfa\/method\/totp\/admin-destroy$/,
      auth: 'token',
      handler: ({ body }) => {
        if (typeof body.method_id !== 'string' || body.method_id === '') throw badRequest('missing method ID');
        if (typeof body.entity_id !== 'string' || body.entity_id === '') throw badRequest('missing entity ID');
        const entity = entities.get(body.entity_id);
        if (!entity) throw badRequest('invalid entity ID');
        if (body.method_id !== mfaMethodId) throw badRequest(`configuration for method ID "${body.method_id}" does not exist`);
        entity.mfaSecret = null;
        entity.updatedAt = now();
        return noContent;
      },
    },
    {
      methods: ['POST'],
      pattern: /^sys\/wrapping\/unwrap$/,
      auth: 'unwrap',
      handler: ({ token, rawToken, body }) => {
        const invalid = () => badRequest('wrapping token is not valid or does not exist');
        const bodyToken = typeof body.token === 'string' && body.token !== '' ? body.token : null;
        // api-docs/system/wrapping-unwrap: the wrapping token goes in the header or in `token`, not both;
        // using both spends its single use on authentication, and the unwrap then finds nothing.
        if (bodyToken !== null && rawToken !== '') {
          if (!token || !allowed(token, 'sys/wrapping/unwrap')) throw denied();
          consumeUse(token);
        }
        const wrapping = liveToken(bodyToken ?? rawToken);
        if (!wrapping || wrapping.kind !== 'wrapping' || !wrapping.wrapped) throw invalid();
        revokeTree(wrapping, 'used');
        return { status: 200, body: { ...wrapping.wrapped, request_id: randomUUID() } };
      },
    },
    {
      methods: ['POST'],
      pattern: new RegExp(`^${km}/creds/([^/]+)$`),
      auth: 'token',
      handler: ({ token, params, body }) => {
        const roleName = params[0]!;
        const role = kubernetesRoles.get(roleName);
        if (!role) throw badRequest(`role '${roleName}' does not exist`);
        let namespace = typeof body.kubernetes_namespace === 'string' ? body.kubernetes_namespace : '';
        if (namespace === '') {
          const single = role.allowedNamespaces.length === 1 && role.allowedNamespaces[0] !== '*' ? role.allowedNamespaces[0] : undefined;
          if (!single) throw badRequest("'kubernetes_namespace' is required unless the role has a single namespace specified");
          namespace = single;
        }
        if (!role.allowedNamespaces.includes('*') && !role.allowedNamespaces.includes(namespace)) {
          throw badRequest(`kubernetes_namespace '${namespace}' is not present in role's allowed_kubernetes_namespaces`);
        }
        const ttl = body.ttl === undefined || body.ttl === '' ? role.tokenDefaultTtl : parseDuration(body.ttl);
        if (ttl === null || ttl === 0) throw badRequest('invalid ttl');
        const account = role.serviceAccountName ?? `v-token-${roleName}-${now()}-${randomString(12).toLowerCase()}`.slice(0, 63);
        const jwtPart = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const audiences = stringList(body.audiences) ?? [];
        const serviceAccountToken = [
          jwtPart({ alg: 'RS256', kid: 'openbao-emulator' }),
          jwtPart({
            iss: 'https://kubernetes.default.svc',
            sub: `system:serviceaccount:${namespace}:${account}`,
            aud: audiences,
            iat: now(),
            exp: now() + ttl,
          }),
          randomBytes(32).toString('base64url'),
        ].join('.');
        const leaseId = `${kubernetesMount}/creds/${roleName}/${randomString(24)}`;
        leases.push({
          leaseId,
          role: roleName,
          namespace,
          serviceAccountName: account,
          serviceAccountToken,
          expiresAt: now() + ttl,
          creatorAccessor: token!.accessor,
          creatorToken: token!.id,
          revoked: false,
        });
        return {
          status: 200,
          body: envelope({
            lease_id: leaseId,
            lease_duration: ttl,
            data: { service_account_name: account, service_account_namespace: namespace, service_account_token: serviceAccountToken },
          }),
        };
      },
    },
  ];

  function healthBody(sealed: boolean): Record<string, unknown> {
    return {
      initialized: true,
      sealed,
      standby: sealed,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: now(),
      version: '2.5.0+gatehouse-emulator',
      cluster_name: 'gatehouse-openbao-emulator',
      cluster_id: clusterId,
    };
  }

  function parseBody(raw: Buffer): Record<string, unknown> {
    const text = raw.toString('utf8').trim();
    if (text === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw badRequest(`failed to parse JSON input: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw badRequest('failed to parse JSON input: not an object');
    return parsed as Record<string, unknown>;
  }

  function presentedToken(headers: RawRequest['headers']): string {
    const header = headers['x-vault-token'];
    if (typeof header === 'string' && header !== '') return header;
    const authorization = headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) return authorization.slice('Bearer '.length);
    return '';
  }

  function dispatch(req: RawRequest): { reply: Reply; token: RequestLogEntry['token']; method: string; path: string } {
    const url = new URL(req.url, 'http://127.0.0.1');
    let method = req.method.toUpperCase();
    if (method === 'PUT') method = 'POST';
    if (method === 'HEAD') method = 'GET';
    if (method === 'GET' && url.searchParams.get('list') === 'true') method = 'LIST';
    const path = url.pathname.replace(/^\/v1\//, '').replace(/\/+$/, '');
    const rawToken = presentedToken(req.headers);
    const log = { method, path, token: 'none' as RequestLogEntry['token'] };
    try {
      if (!url.pathname.startsWith('/v1/')) throw notFound();
      const body = parseBody(req.body);
      sweep();
      if (rawToken !== '') log.token = liveToken(rawToken)?.kind ?? 'invalid';
      if (unreachable === 'sealed') {
        if (path === 'sys/health') return { ...log, reply: { status: 503, body: healthBody(true) } };
        throw new ApiError(503, ['Vault is sealed']);
      }
      const candidates = routes.filter((r) => r.pattern.test(path));
      const route = candidates.find((r) => r.methods.includes(method));
      let token: TokenEntry | null = null;
      if (!route || route.auth === 'token') {
        token = liveToken(rawToken);
        if (!token) throw denied();
        const entity = token.entityId ? entities.get(token.entityId) : undefined;
        if (entity?.disabled) throw denied();
        if (!route)
          throw candidates.length > 0
            ? new ApiError(405, ['unsupported operation'])
            : new ApiError(404, [`no handler for route "${path}"`]);
        if (!allowed(token, path)) throw denied();
        consumeUse(token);
      } else if (route.auth === 'unwrap') {
        token = liveToken(rawToken);
      }
      let params: string[];
      try {
        params = route.pattern
          .exec(path)!
          .slice(1)
          .map((p) => decodeURIComponent(p));
      } catch {
        throw badRequest('malformed path');
      }
      let reply = route.handler({ method, path, params, body, token, rawToken });
      const wrapHeader = req.headers['x-vault-wrap-ttl'];
      if (typeof wrapHeader === 'string' && wrapHeader !== '' && reply.status === 200 && reply.body && path !== 'sys/health') {
        const ttl = parseDuration(wrapHeader);
        if (ttl === null || ttl === 0) throw badRequest('invalid wrap TTL');
        reply = wrap(reply, ttl, path);
      }
      return { ...log, reply };
    } catch (error) {
      if (error instanceof ApiError) return { ...log, reply: { status: error.status, body: { errors: error.errors } } };
      return { ...log, reply: { status: 500, body: { errors: [(error as Error).message] } } };
    }
  }

  function answer(req: RawRequest): { status: number; headers: Record<string, string>; payload: string } {
    const { reply, token, method, path } = dispatch(req);
    requestLog.push({ method, path, status: reply.status, token });
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (reply.status === 204 || reply.body === undefined || req.method === 'HEAD') return { status: reply.status, headers, payload: '' };
    headers['content-type'] = 'application/json';
    return { status: reply.status, headers, payload: JSON.stringify(reply.body) };
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (unreachable === 'refuse') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { status, headers, payload } = answer({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(status, headers).end(payload);
    });
  });
  // Node's HTTP parser rejects the LIST verb that OpenBao clients (node-vault among them) send, so such
  // a request is read from the raw bytes here and answered on a connection that is then closed.
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const raw = error.rawPacket?.toString('latin1') ?? '';
    const headEnd = raw.indexOf('\r\n\r\n');
    const [requestLine = '', ...headerLines] = raw.slice(0, Math.max(headEnd, 0)).split('\r\n');
    const [verb, target] = requestLine.split(' ');
    if (error.code !== 'HPE_INVALID_METHOD' || verb !== 'LIST' || !target || headEnd < 0 || !socket.writable) {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      return;
    }
    const headers: RawRequest['headers'] = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const { status, headers: replyHeaders, payload } = answer({ method: 'LIST', url: target, headers, body: Buffer.alloc(0) });
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'connection: close', `content-length: ${Buffer.byteLength(payload)}`];
    for (const [name, value] of Object.entries(replyHeaders)) head.push(`${name}: ${value}`);
    socket.end(`${head.join('\r\n')}\r\n\r\n${payload}`);
  });
  server.on('connection', (socket: Socket) => {
    if (unreachable === 'refuse') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A test that forgets stop() must not keep its process alive.
    socket.unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;

  const tokenView = (t: TokenEntry): TokenView => ({
    id: t.id,
    accessor: t.accessor,
    kind: t.kind,
    policies: [...t.policies],
    entityId: t.entityId,
    displayName: t.displayName,
    path: t.path,
    meta: { ...t.meta },
    issuedAt: t.issuedAt,
    expiresAt: expiresAt(t),
    parentAccessor: t.parent ? (tokens.get(t.parent)?.accessor ?? null) : null,
    revoked: t.revoked,
  });

  function requireGroup(name: string): Group {
    const group = [...groups.values()].find((g) => g.name === name);
    if (!group) throw new Error(`no group "${name}"`);
    return group;
  }

  function touch(group: Group): void {
    group.modifyIndex += 1;
    group.updatedAt = now();
  }

  function requireUser(username: string): User {
    const user = users.get(username.toLowerCase());
    if (!user) throw new Error(`no userpass user "${username}"`);
    return user;
  }

  const emulator: OpenBaoEmulator = {
    url: `http://127.0.0.1:${port}`,
    serviceToken: service.id,
    mfaMethodId,
    mfaMethodName,
    mfaEnforcementName,
    userpassMount,
    userpassAccessor,
    kubernetesMount,
    userTokenTtl: options.userTokenTtl ?? 3600,
    now,
    advance: (seconds) => clock.advance(seconds),
    setUnreachable(on, mode = 'sealed') {
      unreachable = on ? mode : null;
      if (on && mode === 'refuse') for (const socket of sockets) socket.destroy();
    },
    stop() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },

    addUser(username, password, userOptions = {}) {
      const name = username.toLowerCase();
      if (users.has(name)) throw new Error(`userpass user "${name}" exists`);
      const user: User = {
        username: name,
        passwordHash: hashPassword(password),
        policies: [...userPolicies, ...(userOptions.policies ?? [])],
        entityId: null,
      };
      users.set(name, user);
      if (userOptions.entity === false) {
        if (userOptions.groups?.length || userOptions.name || userOptions.email) throw new Error('groups and metadata need an entity');
        return '';
      }
      const metadata: Record<string, string> = { ...userOptions.metadata };
      if (userOptions.name !== undefined) metadata.name = userOptions.name;
      if (userOptions.email !== undefined) metadata.email = userOptions.email;
      const entity = newEntity(userOptions.entityName, metadata, userOptions.id);
      attachAlias(entity, name);
      user.entityId = entity.id;
      for (const groupName of userOptions.groups ?? []) {
        const group = [...groups.values()].find((g) => g.name === groupName);
        if (!group) throw new Error(`no group "${groupName}"; add it first`);
        group.memberEntityIds.push(entity.id);
        group.modifyIndex += 1;
      }
      return entity.id;
    },
    addGroup(name, groupOptions = {}) {
      if ([...groups.values()].some((g) => g.name === name)) throw new Error(`group "${name}" exists`);
      const t = now();
      const group: Group = {
        id: randomUUID(),
        name,
        policies: groupOptions.policies ?? [],
        memberEntityIds: [],
        memberGroupIds: [],
        createdAt: t,
        updatedAt: t,
        modifyIndex: 1,
      };
      for (const parentName of groupOptions.parents ?? []) {
        const parent = [...groups.values()].find((g) => g.name === parentName);
        if (!parent) throw new Error(`no group "${parentName}"; add it first`);
        parent.memberGroupIds.push(group.id);
        parent.modifyIndex += 1;
      }
      groups.set(group.id, group);
      return group.id;
    },
    setGroupMember(groupName, entityId, member) {
      const group = requireGroup(groupName);
      if (!entities.has(entityId)) throw new Error(`no entity "${entityId}"`);
      group.memberEntityIds = group.memberEntityIds.filter((id) => id !== entityId);
      if (member) group.memberEntityIds.push(entityId);
      touch(group);
    },
    setGroupParents(groupName, parentNames) {
      const group = requireGroup(groupName);
      const parents = parentNames.map(requireGroup);
      for (const g of groups.values()) {
        const wanted = parents.includes(g);
        if (wanted === g.memberGroupIds.includes(group.id)) continue;
        g.memberGroupIds = wanted ? [...g.memberGroupIds, group.id] : g.memberGroupIds.filter((id) => id !== group.id);
        touch(g);
      }
    },
    enrolTotp(username) {
      const entity = entityOf(requireUser(username));
      if (entity.mfaSecret) throw new Error(`"${username}" already has a TOTP secret`);
      return newTotpSecret(entity).secret;
    },
    totp(secret, steps = 0) {
      return generateSync({ secret, epoch: now() + steps * TOTP_PERIOD, period: TOTP_PERIOD });
    },
    enforceMfa(enforcement) {
      mfaEnforcement = enforcement;
    },
    addKubernetesRole(name, roleOptions = {}) {
      kubernetesRoles.set(name, {
        allowedNamespaces: roleOptions.allowedNamespaces ?? ['*'],
        serviceAccountName: roleOptions.serviceAccountName,
        tokenDefaultTtl: roleOptions.tokenDefaultTtl ?? 3600,
      });
    },
    addPolicy(name, paths) {
      policies[name] = [...paths];
    },
    setEntityDisabled(entityId, disabled) {
      const entity = entities.get(entityId);
      if (!entity) throw new Error(`no entity "${entityId}"`);
      entity.disabled = disabled;
    },

    get tokens() {
      sweep();
      return [...tokens.values()].map(tokenView);
    },
    get revokedTokens() {
      sweep();
      return [...tokens.values()].filter((t) => t.revoked).map(tokenView);
    },
    get users() {
      return [...users.values()].map((u) => {
        const state = failedLogins.get(u.username);
        return {
          username: u.username,
          entityId: u.entityId,
          totpEnrolled: Boolean(u.entityId && entities.get(u.entityId)?.mfaSecret),
          lockedUntil: state?.lockedUntil && state.lockedUntil > now() ? state.lockedUntil : null,
        };
      });
    },
    get entities() {
      return [...entities.values()].map((e) => {
        const { direct, inherited } = groupsOfEntity(e.id);
        return {
          id: e.id,
          name: e.name,
          metadata: { ...e.metadata },
          directGroupIds: direct.map((g) => g.id),
          inheritedGroupIds: inherited.map((g) => g.id),
          disabled: e.disabled,
          totpEnrolled: e.mfaSecret !== null,
        };
      });
    },
    get groups() {
      return [...groups.values()].map((g) => ({
        id: g.id,
        name: g.name,
        memberEntityIds: [...g.memberEntityIds],
        memberGroupIds: [...g.memberGroupIds],
      }));
    },
    get leases() {
      sweep();
      return leases.map(({ creatorToken: _creatorToken, ...view }) => ({ ...view }));
    },
    get requests() {
      return [...requestLog];
    },
  };
  return emulator;
}
