import type { Config } from '../config/schema.js';
import type { Logger } from '../http/logger.js';
import type { Clock } from '../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Storage } from '../storage/index.js';
import { createOpenBaoIdentityProvider } from './openbao/provider.js';
import type { IdentityProvider } from './provider.js';
import { createSqliteDirectory } from './sqlite-directory.js';
import { createSqliteMfa } from './sqlite-mfa.js';
import { createSqliteIdentityProvider } from './sqlite-provider.js';

export interface IdentityDeps {
  storage: Storage;
  box: SecretBox;
  clock: Clock;
  random: Random;
  log: Logger;
}

/**
 * The identity backend the configuration names. Building one makes no network call: an OpenBao
 * that cannot be reached fails readiness and sign-in (503), never start-up.
 */
export function createIdentityProvider(config: Config, deps: IdentityDeps): IdentityProvider {
  const { storage, box, clock, random, log } = deps;
  if (config.identityBackend === 'openbao') {
    // The schema refuses identityBackend=openbao without these settings.
    if (!config.openbao) throw new Error('the openbao identity backend needs the openbao settings');
    return createOpenBaoIdentityProvider(config.openbao, { users: storage.users, mfa: storage.mfa, box, clock, log });
  }
  return createSqliteIdentityProvider(
    storage.users,
    createSqliteMfa(storage.mfa, box, clock, 'Gatehouse'),
    createSqliteDirectory(storage.users, storage.groups, clock, random),
  );
}
