import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const main = path.join(repo, 'api/dist/main.js');
const cli = path.join(repo, 'api/dist/cli.js');

export interface SeedUser {
  username: string;
  password: string;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface Gatehouse {
  issuer: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The production build (api/dist serving web/build) as a child process on its own port and
 * a fresh data directory; users are seeded with the real CLI.
 */
export async function startGatehouse(options: {
  clients: unknown[];
  users: SeedUser[];
  /** Its public URL when it runs behind a proxy; by default its own address. */
  issuer?: string;
  /** Its port, when something started before it must know its address (an upstream's redirect_uri); by default a free one. */
  port?: number;
  env?: Record<string, string>;
}): Promise<Gatehouse & { url: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-e2e-'));
  const port = options.port ?? (await freePort());
  const url = `http://localhost:${port}`;
  const issuer = options.issuer ?? url;
  const env = {
    ...options.env,
    PATH: process.env.PATH,
    GATEHOUSE_PORT: String(port),
    GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_ISSUER: issuer,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ADMIN_PASSWORD: 'e2e-admin-password',
    GATEHOUSE_CLIENTS: JSON.stringify(options.clients),
  };
  for (const u of options.users) {
    const args = [cli, 'user', 'add', u.username, '--password-stdin'];
    if (u.email) args.push('--email', u.email);
    if (u.name) args.push('--name', u.name);
    for (const g of u.groups ?? []) args.push('--group', g);
    const r = spawnSync(process.execPath, args, { env, input: `${u.password}\n`, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`seeding ${u.username} failed: ${r.stderr}`);
  }
  const child: ChildProcess = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Gatehouse exited: ${stderr}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`Gatehouse did not get ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    issuer,
    url,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
