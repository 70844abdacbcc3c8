import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigSchema } from '../../src/config/schema.js';
import { buildContext } from '../../src/context.js';
import { silentLogger, type Logger } from '../../src/http/logger.js';
import { startServer } from '../../src/server.js';
import { ADMIN_PASSWORD } from '../helpers/harness.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** A logger that keeps the warnings it is given. */
function warnings(into: string[]): Logger {
  return { info: () => {}, error: () => {}, warn: (message) => into.push(message) };
}

const configFor = (dataDir: string, extra: object = {}) =>
  ConfigSchema.parse({ port: 0, dataDir, adminPassword: ADMIN_PASSWORD, webDir: path.join(dataDir, 'no-web-build'), ...extra });

describe('the data directory and its secrets', () => {
  let root: string;
  let umask: number;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'gatehouse-modes-'));
    // The usual umask, under which files are created 0644 unless asked otherwise.
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('are created for the owner only: the directory 0700, the database, its -wal and -shm and secret.key 0600', async () => {
    const dataDir = path.join(root, 'fresh', 'data');
    const ctx = await buildContext(configFor(dataDir), { auditSink: () => {}, logger: silentLogger });
    try {
      await ctx.storage.ping();
      const modes = Object.fromEntries(
        ['.', 'gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm', 'secret.key'].map((f) => [f, octal(modeOf(path.join(dataDir, f)))]),
      );
      assert.deepEqual(modes, {
        '.': '0700',
        'gatehouse.db': '0600',
        'gatehouse.db-wal': '0600',
        'gatehouse.db-shm': '0600',
        'secret.key': '0600',
      });
    } finally {
      await ctx.close();
    }
  });

  it('start without a warning when nothing is open to other users', async () => {
    const dataDir = path.join(root, 'quiet');
    const warned: string[] = [];
    const server = await startServer(configFor(dataDir), { auditSink: () => {}, logger: warnings(warned) });
    await server.stop();
    assert.deepEqual(warned, []);
  });

  it('are named in a warning at start, with the chmod that fixes them, when group or others may read them, and left as they are', async () => {
    const dataDir = path.join(root, 'exposed');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const db = path.join(dataDir, 'gatehouse.db');
    writeFileSync(db, '', { mode: 0o644 });
    chmodSync(db, 0o644);
    const key = path.join(dataDir, 'secret.key');
    writeFileSync(key, Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o640 });
    chmodSync(key, 0o640);

    const warned: string[] = [];
    const server = await startServer(configFor(dataDir), { auditSink: () => {}, logger: warnings(warned) });
    await server.stop();
    assert.ok(warned.includes(`${dataDir} is open to other users (mode 0755); restrict it with: chmod 700 ${dataDir}`), warned.join('\n'));
    assert.ok(warned.includes(`${db} is open to other users (mode 0644); restrict it with: chmod 600 ${db}`), warned.join('\n'));
    assert.ok(warned.includes(`${key} is open to other users (mode 0640); restrict it with: chmod 600 ${key}`), warned.join('\n'));
    assert.deepEqual([modeOf(dataDir), modeOf(db), modeOf(key)], [0o755, 0o644, 0o640], 'modes are reported, not changed');
  });

  it('do not include a key file when the key comes from configuration', async () => {
    const dataDir = path.join(root, 'configured-key');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(path.join(dataDir, 'secret.key'), 'unused\n', { mode: 0o644 });
    const warned: string[] = [];
    const server = await startServer(configFor(dataDir, { secretKey: Buffer.alloc(32, 1).toString('base64') }), {
      auditSink: () => {},
      logger: warnings(warned),
    });
    await server.stop();
    assert.deepEqual(warned, []);
  });
});
