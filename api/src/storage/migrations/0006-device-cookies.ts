import type { Kysely, Migration } from 'kysely';

/**
 * Browsers that signed in before (OWASP "device cookies"): only the SHA-256 of the cookie, the
 * user and the login name it was earned with. Such a browser has a sign-in throttle of its own,
 * so failures from elsewhere do not lock its owner out.
 */
export const deviceCookies: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('device_cookies')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('login', 'text', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('device_cookies_user').on('device_cookies').column('user_id').execute();
  },
};
