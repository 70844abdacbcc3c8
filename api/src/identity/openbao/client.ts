import NodeVault from 'node-vault';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { IdentityUnavailable } from '../provider.js';

export type OpenBaoSettings = NonNullable<Config['openbao']>;

/*
 * The OpenBao HTTP API as Gatehouse uses it: one small typed function per endpoint, all through
 * node-vault. Shapes follow openbao.org/api-docs (system/health, system/auth, system/mfa-validate,
 * auth/token, auth/userpass, secret/identity/{entity,group,lookup}, secret/identity/mfa/totp).
 *
 * Errors: a connection failure, a timeout, a 5xx (sealed, standby trouble), a 429 and a refused
 * service token are an IdentityUnavailable; what else OpenBao refuses comes back as an answer or
 * an OpenBaoRefusal for the caller to judge. Neither ever carries a token or a password: the
 * underlying HTTP error (whose request config holds both) is never kept as a cause.
 *
 * Only values checked here go into a URL path: entity and group ids must be UUID-shaped and
 * usernames must be userpass names; anything else is refused before a request is made.
 */

/** OpenBao ids (entities, groups, MFA methods): 8-4-4-4-12 hex, without RFC 9562 version bits. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * api-docs/auth/userpass: "alphanumeric plus _, - and .; cannot begin with a hyphen, nor begin or
 * end with a period". Bounded in length so a name never makes an unreasonable URL.
 */
const USERNAME = /^(?![-.])[A-Za-z0-9_.-]{1,128}(?<!\.)$/;

export const isOpenBaoId = (value: string): boolean => ID.test(value);
export const isUserpassName = (value: string): boolean => USERNAME.test(value);

/** A non-success answer that is not an outage; `errors` are OpenBao's messages. */
export class OpenBaoRefusal extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    what: string,
  ) {
    super(`OpenBao refused ${what} (${status})${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`);
    this.name = 'OpenBaoRefusal';
  }
}

/** A value meant for a URL path did not pass its check; no request was made. */
export class UnsafePathValue extends Error {
  constructor(kind: string) {
    super(`refused to put an invalid ${kind} into an OpenBao path`);
    this.name = 'UnsafePathValue';
  }
}

const strings = z
  .record(z.string(), z.string())
  .nullish()
  .transform((m) => m ?? {});
const ids = z
  .array(z.string())
  .nullish()
  .transform((a) => a ?? []);
const rfc3339 = z
  .string()
  .nullish()
  .transform((s) => {
    const ms = s ? Date.parse(s) : NaN;
    return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  });

const AuthBlock = z.object({
  client_token: z.string(),
  accessor: z.string().nullish(),
  entity_id: z.string().nullish(),
  lease_duration: z.number().int().min(0),
  mfa_requirement: z
    .object({
      mfa_request_id: z.string().min(1),
      mfa_constraints: z.record(z.string(), z.object({ any: z.array(z.object({ id: z.string(), type: z.string() })).nullish() })).nullish(),
    })
    .nullish(),
});
const LoginResponse = z.object({ auth: AuthBlock });
const TokenSelf = z.object({ data: z.object({ renewable: z.boolean().nullish(), ttl: z.number().int().min(0) }) });

const EntityResponse = z.object({
  data: z.object({
    id: z.string(),
    name: z.string(),
    metadata: strings,
    disabled: z.boolean().nullish(),
    creation_time: rfc3339,
    last_update_time: rfc3339,
    aliases: z
      .array(z.object({ name: z.string(), mount_accessor: z.string(), mount_type: z.string().nullish() }))
      .nullish()
      .transform((a) => a ?? []),
    direct_group_ids: ids,
    inherited_group_ids: ids,
    group_ids: ids,
  }),
});

const GroupResponse = z.object({
  data: z.object({
    id: z.string(),
    name: z.string(),
    metadata: strings,
    member_entity_ids: ids,
    member_group_ids: ids,
    parent_group_ids: ids,
  }),
});

const ListResponse = z.object({
  data: z.object({
    keys: z.array(z.string()),
    key_info: z.record(z.string(), z.object({ name: z.string().nullish() }).loose()).nullish(),
  }),
});

const HealthResponse = z.object({ initialized: z.boolean(), sealed: z.boolean() }).loose();

const Mounts = z.record(z.string(), z.unknown());
const Mount = z.object({ accessor: z.string(), type: z.string() }).loose();

const WrappedAnswer = z.object({ wrap_info: z.object({ token: z.string().min(1), ttl: z.number().int().min(0) }) });

const KubernetesCreds = z.object({
  lease_duration: z.number().int().min(0),
  data: z.object({ service_account_token: z.string().min(1) }),
});

/** A role name for a path segment: the config's charset, and never `.` or `..`. */
const ROLE = /^(?!\.+$)[A-Za-z0-9._-]{1,128}$/;

const TotpGenerated = z.object({
  data: z.object({ url: z.string().startsWith('otpauth://') }).nullish(),
  warnings: z.array(z.string()).nullish(),
});

/** The login's token, as Gatehouse keeps it. */
export interface LoginToken {
  token: string;
  entityId: string;
  /** Seconds; 0 when the token has no TTL. */
  leaseDuration: number;
}

export type LoginAnswer =
  | { kind: 'token'; login: LoginToken }
  /** docs/auth/login-mfa (two-phase): finish with sys/mfa/validate and this request id. */
  | { kind: 'mfa'; requestId: string; methodIds: string[] }
  /** Wrong password, unknown user, locked-out user: OpenBao does not say which. */
  | { kind: 'refused'; status: number };

export type MfaAnswer = { kind: 'token'; login: LoginToken } | { kind: 'refused'; status: number; errors: string[] };

export interface EntityData {
  id: string;
  name: string;
  metadata: Record<string, string>;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  aliases: { name: string; mountAccessor: string }[];
  directGroupIds: string[];
  /** Direct and inherited (groups the direct ones are nested in), each once. */
  allGroupIds: string[];
}

export interface GroupData {
  id: string;
  name: string;
  metadata: Record<string, string>;
  memberEntityIds: string[];
  parentGroupIds: string[];
}

export interface OpenBaoClient {
  /** sys/health: throws IdentityUnavailable unless initialized and unsealed (a standby is fine). */
  health(): Promise<void>;
  /** auth/token/lookup-self with the service token: throws IdentityUnavailable when it is no longer valid. */
  checkServiceToken(): Promise<void>;
  /**
   * Renews the service token when it can be renewed (a periodic token, as the bootstrap script
   * makes): answers whether it was and its TTL after (0: it does not expire).
   */
  renewServiceToken(): Promise<{ renewed: boolean; ttl: number }>;
  /** sys/auth: the accessor of the auth mount at `mount` (no slashes), if it is enabled. */
  authMountAccessor(mount: string): Promise<string | undefined>;
  /** POST auth/:mount/login/:username (no token sent). */
  login(mount: string, username: string, password: string): Promise<LoginAnswer>;
  /** POST sys/mfa/validate with one passcode for the method (no token sent). */
  validateMfa(requestId: string, methodId: string, passcode: string): Promise<MfaAnswer>;
  /** POST auth/token/revoke-self with the given token; a token already gone is not an error. */
  revokeSelf(token: string): Promise<void>;
  /** GET identity/entity/id/:id; undefined when there is no such entity. */
  readEntity(id: string): Promise<EntityData | undefined>;
  /** POST identity/lookup/entity by alias name and mount accessor; undefined when none matches. */
  lookupEntityByAlias(aliasName: string, mountAccessor: string): Promise<EntityData | undefined>;
  /** LIST auth/:mount/users. */
  listUserpassUsers(mount: string): Promise<string[]>;
  /** POST auth/:mount/users/:username/password; false when the user does not exist. */
  setUserpassPassword(mount: string, username: string, password: string): Promise<boolean>;
  /** LIST identity/group/id, with the names from key_info. */
  listGroups(): Promise<{ id: string; name: string }[]>;
  /** GET identity/group/id/:id; undefined when there is no such group. */
  readGroup(id: string): Promise<GroupData | undefined>;
  /**
   * POST identity/mfa/method/totp/admin-generate: the new secret's otpauth URL, or `exists` when the
   * entity already has a secret for the method (OpenBao answers that with a warning and no data).
   */
  generateTotp(methodId: string, entityId: string): Promise<{ url: string } | 'exists'>;
  /** POST identity/mfa/method/totp/admin-destroy. */
  destroyTotp(methodId: string, entityId: string): Promise<void>;
  /**
   * POST auth/token/create with the user's token and `X-Vault-Wrap-TTL` (docs/concepts/response-wrapping):
   * a child token of theirs, of which only the single-use wrapping token comes back.
   */
  wrappedChildToken(userToken: string, ttl: number, wrapTtl: number): Promise<{ wrappingToken: string; wrapTtl: number }>;
  /** POST :mount/creds/:role with the user's token (api-docs/secret/kubernetes). */
  kubernetesCreds(userToken: string, mount: string, role: string, namespace: string): Promise<{ token: string; ttl: number }>;
}

interface ResponseError {
  response: { statusCode: number; body: unknown };
}

const hasResponse = (err: unknown): err is ResponseError =>
  typeof err === 'object' && err !== null && typeof (err as ResponseError).response?.statusCode === 'number';

const errorsOf = (body: unknown): string[] => {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
};

/** What went wrong, for the log: a status or an error code, never the request itself. */
function describe(err: unknown): string {
  if (hasResponse(err)) {
    const errors = errorsOf(err.response.body);
    return `HTTP ${err.response.statusCode}${errors.length ? `: ${errors.join('; ')}` : ''}`;
  }
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message.slice(0, 200) : 'unknown error';
}

const unavailable = (what: string, err: unknown) => new IdentityUnavailable(new Error(`OpenBao ${what}: ${describe(err)}`));

/** 5xx (sealed, no leader), 429 (rate-limit quota) and anything without an HTTP answer are outages. */
const isOutage = (err: unknown) => !hasResponse(err) || err.response.statusCode >= 500 || err.response.statusCode === 429;

function requireId(value: string, kind: string): string {
  if (!isOpenBaoId(value)) throw new UnsafePathValue(kind);
  return value.toLowerCase();
}

function requireUsername(value: string): string {
  if (!isUserpassName(value)) throw new UnsafePathValue('username');
  // api-docs/auth/userpass: usernames are lower-cased by the method.
  return value.toLowerCase();
}

/** Builds a node-vault client that reads nothing from VAULT_* variables: everything comes from Gatehouse's config. */
function vaultClient(settings: OpenBaoSettings, token: string): NodeVault.client {
  const client = NodeVault({
    endpoint: settings.address,
    token: token || undefined,
    apiVersion: 'v1',
    // node-vault turns TLS verification off when VAULT_SKIP_VERIFY is set; Gatehouse never does.
    rpDefaults: { strictSSL: true },
    requestOptions: {
      timeout: settings.requestTimeoutMs,
      ...(settings.caCert !== undefined && { ca: settings.caCert }),
    },
  } as NodeVault.VaultOptions);
  const mutable = client as NodeVault.client & { pathPrefix: string; namespace: string | undefined };
  mutable.token = token;
  mutable.pathPrefix = '';
  mutable.namespace = undefined;
  return client;
}

export function createOpenBaoClient(settings: OpenBaoSettings): OpenBaoClient {
  /** Carries Gatehouse's service token. */
  const service = vaultClient(settings, settings.token);
  /** Carries no token (logins, MFA validation, health) or the one given per call. */
  const anonymous = vaultClient(settings, '');

  /**
   * One call to OpenBao. `refused` names whose token a 401 or 403 refused: Gatehouse's service
   * token (then Gatehouse cannot work) or the user's own (gone, or its policies do not allow the
   * call). Either way it is an outage for the caller, which answers a temporary failure.
   */
  async function call<T>(what: string, refused: string, run: () => Promise<T>, notFound?: () => T): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof UnsafePathValue || err instanceof z.ZodError) throw err;
      if (isOutage(err)) throw unavailable(what, err);
      const { statusCode, body } = (err as ResponseError).response;
      if (statusCode === 404 && notFound) return notFound();
      if (statusCode === 401 || statusCode === 403) throw unavailable(`${what} (${refused})`, err);
      throw new OpenBaoRefusal(statusCode, errorsOf(body), what);
    }
  }

  /** A call with the service token. */
  const withService = <T>(what: string, run: () => Promise<T>, notFound?: () => T) => call(what, 'service token refused', run, notFound);

  /** A call with the user's own token. */
  const withUser = <T>(what: string, run: () => Promise<T>) => call(what, "the user's token was refused", run);

  const loginToken = (auth: z.infer<typeof AuthBlock>): LoginToken => ({
    token: auth.client_token,
    entityId: auth.entity_id ?? '',
    leaseDuration: auth.lease_duration,
  });

  const entityData = (body: unknown): EntityData => {
    const { data } = EntityResponse.parse(body);
    return {
      id: data.id,
      name: data.name,
      metadata: data.metadata,
      disabled: data.disabled === true,
      createdAt: data.creation_time,
      updatedAt: data.last_update_time,
      aliases: data.aliases.map((a) => ({ name: a.name, mountAccessor: a.mount_accessor })),
      directGroupIds: data.direct_group_ids,
      allGroupIds: [...new Set([...data.direct_group_ids, ...data.inherited_group_ids, ...data.group_ids])],
    };
  };

  return {
    async health() {
      let body: unknown;
      try {
        // node-vault hands back the body of any sys/health answer, whatever its status.
        body = await anonymous.health({ standbyok: true });
      } catch (err) {
        throw unavailable('health check', err);
      }
      const health = HealthResponse.safeParse(body);
      if (!health.success) throw new IdentityUnavailable(new Error('OpenBao health check: unexpected answer'));
      if (!health.data.initialized || health.data.sealed) {
        throw new IdentityUnavailable(new Error(`OpenBao is ${health.data.initialized ? 'sealed' : 'not initialized'}`));
      }
    },

    async checkServiceToken() {
      await withService('service token lookup', () => service.tokenLookupSelf());
    },

    async renewServiceToken() {
      const self = TokenSelf.parse(await withService('service token lookup', () => service.tokenLookupSelf()));
      if (!self.data.renewable || self.data.ttl === 0) return { renewed: false, ttl: self.data.ttl };
      const renewed = LoginResponse.parse(await withService('service token renewal', () => service.tokenRenewSelf({})));
      return { renewed: true, ttl: renewed.auth.lease_duration };
    },

    async authMountAccessor(mount) {
      const body = await withService('auth mount list', () => service.auths());
      // api-docs/system/auth: the mounts are under `data` (and, in older answers, also at the top).
      const raw = body as { data?: unknown };
      const mounts = Mounts.parse(raw.data ?? raw);
      const found = Mount.safeParse(mounts[`${mount}/`]);
      return found.success ? found.data.accessor : undefined;
    },

    async login(mount, username, password) {
      const name = requireUsername(username);
      try {
        const { auth } = LoginResponse.parse(await anonymous.write(`auth/${mount}/login/${name}`, { password }));
        if (auth.mfa_requirement) {
          const methods = Object.values(auth.mfa_requirement.mfa_constraints ?? {}).flatMap((c) => (c.any ?? []).map((m) => m.id));
          return { kind: 'mfa', requestId: auth.mfa_requirement.mfa_request_id, methodIds: methods };
        }
        return { kind: 'token', login: loginToken(auth) };
      } catch (err) {
        if (err instanceof z.ZodError) throw err;
        if (isOutage(err)) throw unavailable('userpass login', err);
        return { kind: 'refused', status: (err as ResponseError).response.statusCode };
      }
    },

    async validateMfa(requestId, methodId, passcode) {
      try {
        const body = await anonymous.write('sys/mfa/validate', { mfa_request_id: requestId, mfa_payload: { [methodId]: [passcode] } });
        return { kind: 'token', login: loginToken(LoginResponse.parse(body).auth) };
      } catch (err) {
        if (err instanceof z.ZodError) throw err;
        if (isOutage(err)) throw unavailable('MFA validation', err);
        const { statusCode, body } = (err as ResponseError).response;
        return { kind: 'refused', status: statusCode, errors: errorsOf(body) };
      }
    },

    async revokeSelf(token) {
      try {
        await anonymous.write('auth/token/revoke-self', {}, { headers: { 'X-Vault-Token': token } });
      } catch (err) {
        // An expired or revoked token answers 403: it is gone already.
        if (hasResponse(err) && err.response.statusCode === 403) return;
        throw isOutage(err)
          ? unavailable('token revocation', err)
          : new OpenBaoRefusal((err as ResponseError).response.statusCode, [], 'token revocation');
      }
    },

    async readEntity(id) {
      const path = `identity/entity/id/${requireId(id, 'entity id')}`;
      const body = await withService(
        'entity read',
        () => service.read(path),
        () => undefined,
      );
      return body === undefined ? undefined : entityData(body);
    },

    async lookupEntityByAlias(aliasName, mountAccessor) {
      const body = await withService('entity lookup', () =>
        service.write('identity/lookup/entity', { alias_name: aliasName, alias_mount_accessor: mountAccessor }),
      );
      // api-docs/secret/identity/lookup: no match is a 204 without a body.
      return body && typeof body === 'object' ? entityData(body) : undefined;
    },

    async listUserpassUsers(mount) {
      const body = await withService(
        'userpass user list',
        () => service.list(`auth/${mount}/users`),
        () => undefined,
      );
      // A LIST with nothing to list answers 404.
      return body === undefined ? [] : ListResponse.parse(body).data.keys;
    },

    async setUserpassPassword(mount, username, password) {
      const path = `auth/${mount}/users/${requireUsername(username)}/password`;
      try {
        await withService('password update', () => service.write(path, { password }));
        return true;
      } catch (err) {
        // api-docs/auth/userpass: a user that does not exist is a 400 ("username does not exist").
        if (err instanceof OpenBaoRefusal && err.status === 400 && err.errors.some((e) => /does not exist/i.test(e))) return false;
        throw err;
      }
    },

    async listGroups() {
      const body = await withService(
        'group list',
        () => service.list('identity/group/id'),
        () => undefined,
      );
      if (body === undefined) return [];
      const { keys, key_info } = ListResponse.parse(body).data;
      return keys.map((id) => ({ id, name: key_info?.[id]?.name ?? id }));
    },

    async readGroup(id) {
      const path = `identity/group/id/${requireId(id, 'group id')}`;
      const body = await withService(
        'group read',
        () => service.read(path),
        () => undefined,
      );
      if (body === undefined) return undefined;
      const { data } = GroupResponse.parse(body);
      return {
        id: data.id,
        name: data.name,
        metadata: data.metadata,
        memberEntityIds: data.member_entity_ids,
        parentGroupIds: data.parent_group_ids,
      };
    },

    async generateTotp(methodId, entityId) {
      const body = await withService('TOTP secret generation', () =>
        service.write('identity/mfa/method/totp/admin-generate', { method_id: methodId, entity_id: requireId(entityId, 'entity id') }),
      );
      const answer = TotpGenerated.parse(body);
      return answer.data ? { url: answer.data.url } : 'exists';
    },

    async wrappedChildToken(userToken, ttl, wrapTtl) {
      const body = await withUser('wrapped token creation', () =>
        anonymous.write(
          'auth/token/create',
          { ttl: `${ttl}s`, display_name: 'gatehouse' },
          { headers: { 'X-Vault-Token': userToken, 'X-Vault-Wrap-TTL': `${wrapTtl}s` } },
        ),
      );
      const { wrap_info } = WrappedAnswer.parse(body);
      return { wrappingToken: wrap_info.token, wrapTtl: wrap_info.ttl };
    },

    async kubernetesCreds(userToken, mount, role, namespace) {
      if (!ROLE.test(role)) throw new UnsafePathValue('role');
      const body = await withUser('kubernetes credentials', () =>
        anonymous.write(`${mount}/creds/${role}`, { kubernetes_namespace: namespace }, { headers: { 'X-Vault-Token': userToken } }),
      );
      const creds = KubernetesCreds.parse(body);
      return { token: creds.data.service_account_token, ttl: creds.lease_duration };
    },

    async destroyTotp(methodId, entityId) {
      await withService('TOTP secret removal', () =>
        service.write('identity/mfa/method/totp/admin-destroy', { method_id: methodId, entity_id: requireId(entityId, 'entity id') }),
      );
    },
  };
}
