import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Config } from './config/schema.js';
import { bootstrap, purgeAuditLog, purgeExpired, type BootstrapResult } from './bootstrap.js';
import { buildContext, type AppContext, type ContextOptions } from './context.js';
import { createApp } from './app.js';
import { exposedPaths } from './lib/private-files.js';
import { secretKeyFile } from './lib/secret-box.js';
import { databaseFiles } from './storage/db.js';

const PURGE_INTERVAL_MS = 10 * 60 * 1000;
const AUDIT_PURGE_INTERVAL_MS = 60 * 60 * 1000;
const IDENTITY_UPKEEP_INTERVAL_MS = 60 * 60 * 1000;
/** How often Node looks for requests past their header or request timeout (its default, 30 s, would add up to that much to both). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

export interface RunningServer {
  ctx: AppContext;
  server: Server;
  url: string;
  boot: BootstrapResult;
  stop(): Promise<void>;
}

/**
 * Warns about a data directory, database or key file that other users may read: they hold
 * password hashes, sealed secrets and the key that opens them. Gatehouse creates its own with
 * 0700 and 0600; modes someone else gave them are left as they are.
 */
function warnAboutExposedFiles(ctx: AppContext): void {
  const { dataDir, secretKey } = ctx.config;
  const paths = [dataDir, ...databaseFiles(dataDir), ...(secretKey ? [] : [secretKeyFile(dataDir)])];
  for (const { path, mode, fix } of exposedPaths(paths)) {
    ctx.log.warn(`${path} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); restrict it with: ${fix}`, {
      path,
      fix,
    });
  }
}

/**
 * Builds the context, runs start-up work and listens, with the connection limits of
 * `config.http`. Used by main.ts and by tests.
 */
export async function startServer(config: Config, options: ContextOptions = {}): Promise<RunningServer> {
  const ctx = await buildContext(config, options);
  warnAboutExposedFiles(ctx);
  const boot = await bootstrap(ctx);
  const { http } = config;
  const server = createServer(
    {
      headersTimeout: http.headersTimeoutSeconds * 1000,
      requestTimeout: http.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    createApp(ctx),
  );
  server.keepAliveTimeout = http.keepAliveTimeoutSeconds * 1000;
  server.timeout = http.idleTimeoutSeconds * 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const maintenance = setInterval(() => {
    purgeExpired(ctx).catch((err: unknown) => ctx.log.error('purging expired records failed', err));
  }, PURGE_INTERVAL_MS);
  maintenance.unref();
  const auditRetention = setInterval(() => {
    purgeAuditLog(ctx).catch((err: unknown) => ctx.log.error('purging old audit events failed', err));
  }, AUDIT_PURGE_INTERVAL_MS);
  auditRetention.unref();
  const upkeep = () => ctx.identity.maintain?.().catch((err: unknown) => ctx.log.error('identity backend upkeep failed', err));
  void upkeep();
  const identityUpkeep = setInterval(upkeep, IDENTITY_UPKEEP_INTERVAL_MS);
  identityUpkeep.unref();
  const { port } = server.address() as AddressInfo;
  return {
    ctx,
    server,
    boot,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async stop() {
      clearInterval(maintenance);
      clearInterval(auditRetention);
      clearInterval(identityUpkeep);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await ctx.close();
    },
  };
}
