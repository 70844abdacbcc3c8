import type { Migration } from 'kysely';
import { init } from './0001-init.js';
import { mfa } from './0002-mfa.js';
import { apiTokens } from './0003-api-tokens.js';
import { admin } from './0004-admin.js';
import { backendCredentials } from './0005-backend-credentials.js';
import { deviceCookies } from './0006-device-cookies.js';
import { upstreams } from './0007-upstreams.js';

/** Every migration, in order. Names sort lexically; never rename or edit a released one. */
export const migrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-mfa': mfa,
  '0003-api-tokens': apiTokens,
  '0004-admin': admin,
  '0005-backend-credentials': backendCredentials,
  '0006-device-cookies': deviceCookies,
  '0007-upstreams': upstreams,
};
