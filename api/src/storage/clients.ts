import type { ClientType, SigningAlg, TokenEndpointAuthMethod } from '@gatehouse/shared';
import type { Db } from './db.js';
import { PreparedQuery } from './prepared.js';
import type { ClientTable } from './schema.js';

export interface Client {
  id: string;
  secretHash: string | null;
  name: string;
  type: ClientType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  consent: 'explicit' | 'implicit';
  scopes: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  idTokenAlg: SigningAlg;
  /** Sign-ins to this client need a second factor. */
  requireMfa: boolean;
  logoUri: string | null;
  /** Group names whose members may sign in; empty means everyone. */
  allowedGroups: string[];
  /** `config` clients are rewritten from configuration at every start. */
  source: 'config' | 'local';
}

/** A client as stored, with when it was registered and last changed. */
export interface ClientRecord extends Client {
  createdAt: number;
  updatedAt: number;
}

const toClient = (r: ClientTable): ClientRecord => ({
  id: r.id,
  secretHash: r.secret_hash,
  name: r.name,
  type: r.type as ClientType,
  redirectUris: JSON.parse(r.redirect_uris) as string[],
  postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
  consent: r.consent as Client['consent'],
  scopes: JSON.parse(r.scopes) as string[],
  grantTypes: JSON.parse(r.grant_types) as string[],
  tokenEndpointAuthMethod: r.token_endpoint_auth_method as TokenEndpointAuthMethod,
  idTokenAlg: r.id_token_signed_response_alg as SigningAlg,
  requireMfa: r.require_mfa === 1,
  logoUri: r.logo_uri,
  allowedGroups: JSON.parse(r.allowed_groups) as string[],
  source: r.source as Client['source'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRow = (c: Client, now: number): ClientTable => ({
  id: c.id,
  secret_hash: c.secretHash,
  name: c.name,
  type: c.type,
  redirect_uris: JSON.stringify(c.redirectUris),
  post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
  consent: c.consent,
  scopes: JSON.stringify(c.scopes),
  grant_types: JSON.stringify(c.grantTypes),
  token_endpoint_auth_method: c.tokenEndpointAuthMethod,
  id_token_signed_response_alg: c.idTokenAlg,
  require_mfa: c.requireMfa ? 1 : 0,
  logo_uri: c.logoUri,
  allowed_groups: JSON.stringify(c.allowedGroups),
  source: c.source,
  created_at: now,
  updated_at: now,
});

export class ClientRepo {
  private readonly findQuery;

  constructor(private readonly db: Db) {
    this.findQuery = new PreparedQuery(db, (p: { id: string }) => db.selectFrom('clients').selectAll().where('id', '=', p.id));
  }

  async find(id: string): Promise<ClientRecord | undefined> {
    const row = await this.findQuery.first({ id });
    return row && toClient(row);
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.selectFrom('clients').selectAll().orderBy('id').execute();
    return rows.map(toClient);
  }

  async insert(client: Client, now: number): Promise<void> {
    await this.db.insertInto('clients').values(toRow(client, now)).execute();
  }

  /** Inserts a new client; false when its id is taken. */
  async create(client: Client, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('clients')
      .values(toRow(client, now))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Rewrites a `local` client (configured ones are read-only); false when there is none. */
  async updateLocal(client: Client, now: number): Promise<boolean> {
    const { id: _id, created_at: _created, source: _source, ...change } = toRow(client, now);
    const r = await this.db.updateTable('clients').set(change).where('id', '=', client.id).where('source', '=', 'local').executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Deletes a `local` client; its grants, codes, refresh tokens and consents go with it. */
  async deleteLocal(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('clients').where('id', '=', id).where('source', '=', 'local').executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** Makes the `config` clients exactly the given list: updates, adds, and removes the rest. */
  async syncConfigClients(clients: Client[], now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const keep = clients.map((c) => c.id);
      let del = trx.deleteFrom('clients').where('source', '=', 'config');
      if (keep.length > 0) del = del.where('id', 'not in', keep);
      await del.execute();
      for (const client of clients) {
        const { created_at: _created, ...update } = toRow(client, now);
        await trx
          .insertInto('clients')
          .values(toRow(client, now))
          .onConflict((oc) => oc.column('id').doUpdateSet(update))
          .execute();
      }
    });
  }
}
