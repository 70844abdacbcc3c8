import { type Kysely, type Migration } from 'kysely';

/**
 * Federation: upstream identity providers (from config, or added by admins), the links from an
 * upstream identity (its issuer and subject, never its e-mail) to an account, and the pending
 * sign-ins at an upstream, single-use and bound to the browser that started them. Sessions,
 * grants and second-factor challenges remember the upstream a sign-in came through (`idp`).
 */
export const upstreams: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('upstreams')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      /** The registration without its secret, as JSON. */
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('client_secret', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('upstream_links')
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('upstream_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('last_login_at', 'integer')
      .addPrimaryKeyConstraint('upstream_links_pk', ['issuer', 'subject'])
      .addUniqueConstraint('upstream_links_one_per_user', ['user_id', 'upstream_id'])
      .execute();
    await db.schema
      .createTable('upstream_states')
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      .addColumn('upstream_id', 'text', (c) => c.notNull())
      .addColumn('browser_hash', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('interaction_id', 'text')
      /** The signed-in user a link is for. */
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      /** Sealed: the PKCE verifier, the nonce, and an invitation token when one was used. */
      .addColumn('secrets', 'text', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('upstream_states_expiry').on('upstream_states').column('expires_at').execute();
    await db.schema.alterTable('sessions').addColumn('idp', 'text').execute();
    await db.schema.alterTable('grants').addColumn('idp', 'text').execute();
    await db.schema.alterTable('login_challenges').addColumn('idp', 'text').execute();
  },
};
