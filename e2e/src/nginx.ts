import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const TEMPLATE = path.join(repo, 'deploy/nginx/gatehouse.conf.template');
export const WEB_BUILD = path.join(repo, 'web/build');

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/** Makes a copied tree readable by everyone: directories 0755, files 0644. */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) openUp(child);
    else chmodSync(child, 0o644);
  }
}

/**
 * Debian's nginx running the same server template compose.yaml uses, with the template
 * variables filled the way the nginx image's envsubst fills them. Started as root, nginx's
 * workers run as an unprivileged user that may not reach a checkout (one under /root, or in
 * any 0700 directory), so they serve a world-readable copy of web/build in nginx's own
 * directory, as the web image holds its copy.
 */
export async function startNginx(port: number, upstream: string): Promise<Nginx> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-nginx-'));
  const webRoot = path.join(dir, 'web');
  cpSync(WEB_BUILD, webRoot, { recursive: true });
  openUp(dir);
  const vars: Record<string, string> = { NGINX_PORT: String(port), GATEHOUSE_UPSTREAM: upstream, WEB_ROOT: webRoot };
  const server = readFileSync(TEMPLATE, 'utf8').replace(/\$\{(\w+)\}/g, (m, name: string) => vars[name] ?? m);
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d), { mode: 0o777 });
  writeFileSync(path.join(dir, 'server.conf'), server);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/server.conf;
}
`,
  );
  const child = spawn('/usr/sbin/nginx', ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
