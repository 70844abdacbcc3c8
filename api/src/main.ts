import { loadConfig, ConfigError } from './config/load.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Gatehouse cannot start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const running = await startServer(config);
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`Gatehouse is listening on ${running.url} (issuer ${config.issuer})`);
  out(`Discovery: ${config.issuer}/.well-known/openid-configuration`);
  if (running.boot.adminCreated) {
    out(
      running.boot.generatedAdminPassword
        ? `First admin created: username "admin", password "${running.boot.generatedAdminPassword}" (shown once; change it with: npm run gatehouse -- user passwd admin)`
        : 'First admin created: username "admin", password from GATEHOUSE_ADMIN_PASSWORD',
    );
  }
  if (config.identityBackend === 'openbao') {
    out(`Identity: OpenBao at ${config.openbao!.address}; administrators are members of its "${config.openbao!.adminGroup}" group`);
  }
  if (running.boot.noAdmin) {
    out('There is no administrator and the username "admin" is taken: make one with npm run gatehouse -- user add <name> --admin');
  }
  const shutdown = () => {
    out('Gatehouse is stopping');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`Gatehouse failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
