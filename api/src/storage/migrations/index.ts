import type { Migration } from 'kysely';
import { init } from './0001-init.js';

/** Every migration, in order. Names sort lexically; never rename or edit a released one. */
export const migrations: Record<string, Migration> = {
  '0001-init': init,
};
