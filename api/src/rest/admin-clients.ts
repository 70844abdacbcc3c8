import { z } from 'zod';
import {
  AdminClient,
  AdminClientList,
  ClientWithSecret,
  CreateClientRequest,
  UpdateClientRequest,
  type ClientType,
  type TokenEndpointAuthMethod,
} from '@gatehouse/shared';
import { auditAdmin } from './admin-actions.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { sha256 } from '../lib/hash.js';
import type { Client, ClientRecord } from '../storage/clients.js';
import type { RestRoutes } from './route.js';

const toAdminClient = (c: ClientRecord): AdminClient => ({
  clientId: c.id,
  name: c.name,
  type: c.type,
  redirectUris: c.redirectUris,
  postLogoutRedirectUris: c.postLogoutRedirectUris,
  consent: c.consent,
  scopes: c.scopes,
  tokenEndpointAuthMethod: c.tokenEndpointAuthMethod,
  idTokenSignedResponseAlg: c.idTokenAlg,
  logoUri: c.logoUri,
  requireMfa: c.requireMfa,
  allowedGroups: c.allowedGroups,
  source: c.source,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/**
 * How the client authenticates at the token endpoint: a public client with `none`, a
 * confidential one with its secret (`fallback`, else client_secret_basic, unless asked).
 */
function authMethod(
  type: ClientType,
  asked: TokenEndpointAuthMethod | undefined,
  fallback?: TokenEndpointAuthMethod,
): TokenEndpointAuthMethod {
  if (type === 'public') {
    if (asked && asked !== 'none') {
      throw ApiError.validation([{ field: 'tokenEndpointAuthMethod', message: 'A public client must use none' }]);
    }
    return 'none';
  }
  if (asked === 'none')
    throw ApiError.validation([{ field: 'tokenEndpointAuthMethod', message: 'A confidential client must authenticate' }]);
  return asked ?? (fallback && fallback !== 'none' ? fallback : 'client_secret_basic');
}

/**
 * Admin API for applications (OIDC clients):
 *   GET    /api/v1/admin/clients              list
 *   POST   /api/v1/admin/clients              register (a confidential client's secret is answered once)
 *   GET    /api/v1/admin/clients/:id          one
 *   PATCH  /api/v1/admin/clients/:id          change
 *   DELETE /api/v1/admin/clients/:id          remove, with its grants, tokens and consents
 *   POST   /api/v1/admin/clients/:id/secret   rotate the secret; the old one stops working at once
 * Clients from configuration are read-only here. Secrets are stored only as SHA-256.
 */
export function adminClientRoutes(ctx: AppContext, routes: RestRoutes): void {
  const idOf = (value: unknown) => z.string().max(128).safeParse(value).data ?? '';

  async function found(id: string): Promise<ClientRecord> {
    const client = await ctx.storage.clients.find(id);
    if (!client) throw ApiError.notFound('No such application.');
    return client;
  }

  async function writable(id: string): Promise<ClientRecord> {
    const client = await found(id);
    if (client.source === 'config') {
      throw new ApiError('conflict', 409, `The application ${client.id} is managed in configuration; change it there.`);
    }
    return client;
  }

  /** Group names as the directory spells them; unknown names are a validation failure. */
  async function groupsNamed(names: string[]): Promise<string[]> {
    const wanted = unique(names);
    if (wanted.length === 0) return [];
    const groups = await ctx.identity.directory.findGroupsByName(wanted);
    const resolved = wanted.map(
      (n) => groups.find((g) => g.name === n)?.name ?? groups.find((g) => g.name.toLowerCase() === n.toLowerCase())?.name,
    );
    const unknown = wanted.filter((_n, i) => resolved[i] === undefined);
    if (unknown.length > 0) {
      throw ApiError.validation([{ field: 'allowedGroups', message: `No such group: ${unknown.join(', ')}` }]);
    }
    return unique(resolved as string[]);
  }

  async function save(client: Client, createdAt: number): Promise<ClientRecord> {
    const now = ctx.clock.now();
    if (!(await ctx.storage.clients.updateLocal(client, now))) throw ApiError.notFound('No such application.');
    return { ...client, createdAt, updatedAt: now };
  }

  routes.add(
    { method: 'get', path: '/api/v1/admin/clients', summary: 'List applications', scope: 'admin:read', response: AdminClientList },
    async () => ({ clients: (await ctx.storage.clients.list()).map(toAdminClient) }),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/clients',
      summary: 'Register an application',
      scope: 'admin:write',
      body: CreateClientRequest,
      response: ClientWithSecret,
      status: 201,
    },
    async ({ req, principal, body }) => {
      const method = authMethod(body.type, body.tokenEndpointAuthMethod);
      const allowedGroups = await groupsNamed(body.allowedGroups);
      const secret = body.type === 'confidential' ? ctx.random.token(32) : undefined;
      const client: Client = {
        id: body.clientId ?? ctx.random.token(16),
        secretHash: secret ? sha256(secret) : null,
        name: body.name,
        type: body.type,
        redirectUris: unique(body.redirectUris),
        postLogoutRedirectUris: unique(body.postLogoutRedirectUris),
        consent: body.consent,
        scopes: unique(body.scopes),
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: method,
        idTokenAlg: body.idTokenSignedResponseAlg,
        requireMfa: body.requireMfa,
        logoUri: body.logoUri,
        allowedGroups,
        source: 'local',
      };
      const now = ctx.clock.now();
      if (!(await ctx.storage.clients.create(client, now))) {
        throw new ApiError('conflict', 409, `An application with the id ${client.id} already exists.`);
      }
      await auditAdmin(ctx, req, principal, {
        event: 'client_create',
        clientId: client.id,
        detail: { name: client.name, type: client.type },
      });
      return { client: toAdminClient({ ...client, createdAt: now, updatedAt: now }), ...(secret && { clientSecret: secret }) };
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/clients/:id', summary: 'Get an application', scope: 'admin:read', response: AdminClient },
    async ({ req }) => toAdminClient(await found(idOf(req.params.id))),
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/admin/clients/:id',
      summary: 'Change an application',
      scope: 'admin:write',
      body: UpdateClientRequest,
      response: ClientWithSecret,
    },
    async ({ req, principal, body }) => {
      const current = await writable(idOf(req.params.id));
      const type = body.type ?? current.type;
      const typeChanged = type !== current.type;
      const method = authMethod(type, body.tokenEndpointAuthMethod, typeChanged ? undefined : current.tokenEndpointAuthMethod);
      const allowedGroups = body.allowedGroups ? await groupsNamed(body.allowedGroups) : current.allowedGroups;
      const secret = typeChanged && type === 'confidential' ? ctx.random.token(32) : undefined;
      const updated = await save(
        {
          ...current,
          type,
          tokenEndpointAuthMethod: method,
          secretHash: type === 'public' ? null : secret ? sha256(secret) : current.secretHash,
          name: body.name ?? current.name,
          redirectUris: body.redirectUris ? unique(body.redirectUris) : current.redirectUris,
          postLogoutRedirectUris: body.postLogoutRedirectUris ? unique(body.postLogoutRedirectUris) : current.postLogoutRedirectUris,
          consent: body.consent ?? current.consent,
          scopes: body.scopes ? unique(body.scopes) : current.scopes,
          idTokenAlg: body.idTokenSignedResponseAlg ?? current.idTokenAlg,
          logoUri: body.logoUri !== undefined ? body.logoUri : current.logoUri,
          requireMfa: body.requireMfa ?? current.requireMfa,
          allowedGroups,
        },
        current.createdAt,
      );
      const fields = Object.entries(body)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k);
      await auditAdmin(ctx, req, principal, {
        event: 'client_update',
        clientId: updated.id,
        detail: { fields: fields.join(' '), secret_issued: secret !== undefined },
      });
      return { client: toAdminClient(updated), ...(secret && { clientSecret: secret }) };
    },
  );

  routes.add(
    { method: 'delete', path: '/api/v1/admin/clients/:id', summary: 'Delete an application', scope: 'admin:write' },
    async ({ req, principal }) => {
      const current = await writable(idOf(req.params.id));
      if (!(await ctx.storage.clients.deleteLocal(current.id))) throw ApiError.notFound('No such application.');
      await auditAdmin(ctx, req, principal, { event: 'client_delete', clientId: current.id, detail: { name: current.name } });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/clients/:id/secret',
      summary: "Rotate an application's secret",
      scope: 'admin:write',
      response: ClientWithSecret,
    },
    async ({ req, principal }) => {
      const current = await writable(idOf(req.params.id));
      if (current.type === 'public') throw new ApiError('conflict', 409, 'A public application has no secret to rotate.');
      const secret = ctx.random.token(32);
      const updated = await save({ ...current, secretHash: sha256(secret) }, current.createdAt);
      await auditAdmin(ctx, req, principal, { event: 'client_secret_rotate', clientId: updated.id });
      return { client: toAdminClient(updated), clientSecret: secret };
    },
  );
}
