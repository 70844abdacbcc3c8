import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Config } from './config/schema.js';
import { bootstrap, purgeAuditLog, purgeExpired, type BootstrapResult } from './bootstrap.js';
import { buildContext, type AppContext, type ContextOptions } from './context.js';
import { createApp } from './app.js';

const PURGE_INTERVAL_MS = 10 * 60 * 1000;
const AUDIT_PURGE_INTERVAL_MS = 60 * 60 * 1000;
const IDENTITY_UPKEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface RunningServer {
  ctx: AppContext;
  server: Server;
  url: string;
  boot: BootstrapResult;
  stop(): Promise<void>;
}

/** Builds the context, runs start-up work and listens. Used by main.ts and by tests. */
export async function startServer(config: Config, options: ContextOptions = {}): Promise<RunningServer> {
  const ctx = await buildContext(config, options);
  const boot = await bootstrap(ctx);
  const server = createServer(createApp(ctx));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 65_000;
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
