import type { Config } from './config/schema.js';
import { createAuditRecorder, type AuditRecorder } from './audit/recorder.js';
import { UpstreamRegistry } from './federation/registry.js';
import { Cookies } from './http/cookies.js';
import { createLogger, type Logger } from './http/logger.js';
import { createIdentityProvider } from './identity/index.js';
import type { IdentityProvider } from './identity/provider.js';
import { systemClock, type Clock } from './lib/clock.js';
import { cryptoRandom, type Random } from './lib/random.js';
import { createSecretBox, loadSecretKey, type SecretBox } from './lib/secret-box.js';
import { countAuditEvent } from './metrics/audit-counters.js';
import { createMetrics, type Metrics } from './metrics/registry.js';
import { AccessTokenVerifier } from './oidc/tokens/access-token.js';
import { AccessTokenValidator } from './oidc/tokens/access-token-validator.js';
import { Keystore } from './oidc/tokens/keystore.js';
import { SessionService } from './session/service.js';
import { Regulator } from './mfa/regulation.js';
import { openDatabase, type OpenedDatabase } from './storage/db.js';
import { createStorage, type Storage } from './storage/index.js';

/** Everything a handler may use. Time, randomness and output are injected here, nowhere else. */
export interface AppContext {
  config: Config;
  clock: Clock;
  random: Random;
  storage: Storage;
  identity: IdentityProvider;
  keys: Keystore;
  /** Checks the access tokens Gatehouse issued, wherever it accepts them. */
  accessTokens: AccessTokenValidator;
  box: SecretBox;
  sessions: SessionService;
  regulator: Regulator;
  /** The upstream identity providers people may sign in with (federation). */
  upstreams: UpstreamRegistry;
  cookies: Cookies;
  audit: AuditRecorder;
  metrics: Metrics;
  log: Logger;
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  random?: Random;
  /** Where audit lines go; stdout by default. */
  auditSink?: (line: string) => void;
  logger?: Logger;
}

export async function buildContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const opened: OpenedDatabase = await openDatabase(config.dataDir);
  const storage = createStorage(opened.db);
  const box = createSecretBox(loadSecretKey(config.secretKey, config.dataDir));
  const keys = await Keystore.load(storage.keys, box, clock.now());
  const cookies = new Cookies(config.issuer);
  const auditSink = options.auditSink ?? ((line: string) => process.stdout.write(line + '\n'));
  const metrics = createMetrics();
  const audit = createAuditRecorder(storage.audit, auditSink, (event, outcome) => countAuditEvent(metrics, event, outcome));
  const log = options.logger ?? createLogger();
  const identity = createIdentityProvider(config, { storage, box, clock, random, log });
  const sessions = new SessionService(storage.sessions, cookies, config.ttl, clock, random, {
    box,
    release: (credential) => identity.release(credential),
    onBackendExpiry: (session) =>
      audit.record(
        { event: 'session_expired', userId: session.userId, detail: { session: session.id, reason: 'backend_token' } },
        clock.now(),
      ),
  });
  const upstreams = new UpstreamRegistry(storage.upstreams, box, config.issuer, config.upstreamTimeoutMs, () => clock.now());
  await upstreams.reload();
  return {
    config,
    clock,
    random,
    storage,
    identity,
    keys,
    accessTokens: new AccessTokenValidator(new AccessTokenVerifier(keys, config.issuer), storage.grants, identity, clock),
    box,
    cookies,
    sessions,
    upstreams,
    regulator: new Regulator(storage.mfa, clock, { ...config.throttle, memory: 24 * 3600 }),
    audit,
    metrics,
    log,
    close: () => opened.close(),
  };
}
