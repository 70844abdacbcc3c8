import type { Kysely, Migration } from 'kysely';

/**
 * What an external identity backend (OpenBao) hands out at sign-in, kept server-side: the
 * user's backend token on the session (sealed), and the backend's pending second-factor state on
 * the login challenge (sealed).
 */
export const backendCredentials: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sessions').addColumn('backend_token', 'text').execute();
    await db.schema.alterTable('login_challenges').addColumn('backend_state', 'text').execute();
  },
};
