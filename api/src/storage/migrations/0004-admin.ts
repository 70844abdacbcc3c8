import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Administration: nested groups with a second-factor requirement, per-client access policy and
 * logo, invitations, one-time password links, last sign-in, and the acting admin of audit events.
 */
export const admin: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('last_login_at', 'integer').execute();

    await db.schema.alterTable('groups').addColumn('description', 'text').execute();
    await db.schema
      .alterTable('groups')
      .addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('groups')
      .addColumn('created_at', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('group_parents')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('parent_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_parents_pk', ['group_id', 'parent_id'])
      .execute();
    await db.schema.createIndex('group_parents_parent').on('group_parents').column('parent_id').execute();

    await db.schema.alterTable('clients').addColumn('logo_uri', 'text').execute();
    // Group names, compared with the groups claim; empty means everyone may sign in.
    await db.schema
      .alterTable('clients')
      .addColumn('allowed_groups', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();

    await db.schema
      .createTable('invitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text', (c) => c.notNull().modifyFront(sql`collate nocase`))
      .addColumn('groups', 'text', (c) => c.notNull())
      // Sealed TOTP secret offered to the invitee when a target group requires a second factor.
      .addColumn('totp_secret', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .addColumn('used_at', 'integer')
      .addColumn('used_by', 'text')
      .addColumn('revoked_at', 'integer')
      .execute();

    await db.schema
      .createTable('password_links')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .addColumn('used_at', 'integer')
      .execute();
    await db.schema.createIndex('password_links_user').on('password_links').column('user_id').execute();

    await db.schema.alterTable('audit_events').addColumn('actor_id', 'text').execute();
    await db.schema.createIndex('audit_events_event').on('audit_events').columns(['event', 'id']).execute();
    await db.schema.createIndex('audit_events_user').on('audit_events').columns(['user_id', 'id']).execute();
    await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_id', 'id']).execute();
    await db.schema.createIndex('audit_events_client').on('audit_events').columns(['client_id', 'id']).execute();
  },
};
