// The browser tests use Debian's chromium (never a downloaded browser) and Debian's nginx.
// Installs whichever is missing when we are root.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  { file: '/usr/bin/chromium', pkg: 'chromium' },
  { file: '/usr/sbin/nginx', pkg: 'nginx-light' },
].filter((n) => !existsSync(n.file));

if (needed.length > 0) {
  const pkgs = needed.map((n) => n.pkg);
  if (process.getuid?.() !== 0) {
    console.error(
      `Missing ${needed.map((n) => n.file).join(', ')}: install Debian's ${pkgs.join(' ')} (apt-get install ${pkgs.join(' ')}).`,
    );
    process.exit(1);
  }
  console.error(`Installing Debian ${pkgs.join(', ')} for the browser tests…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...pkgs],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
