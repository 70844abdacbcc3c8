import type { Kysely, Migration } from 'kysely';

/** TOTP credentials, recovery codes, pending second-factor challenges and sign-in throttling. */
export const mfa: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('totp_credentials')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('confirmed_at', 'integer')
      .addColumn('last_step', 'integer')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('recovery_codes')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('used_at', 'integer')
      .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
      .execute();

    await db.schema
      .createTable('login_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('browser_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('interaction_id', 'text')
      .addColumn('remember', 'integer', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('login_challenges_browser').on('login_challenges').column('browser_hash').execute();

    await db.schema
      .createTable('login_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at', 'integer', (c) => c.notNull())
      .addColumn('blocked_until', 'integer', (c) => c.notNull())
      .execute();

    await db.schema
      .alterTable('clients')
      .addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
