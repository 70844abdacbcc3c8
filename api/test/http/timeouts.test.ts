import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ADMIN_PASSWORD } from '../helpers/harness.js';

/**
 * Far below what Node does by default (60 s for headers, 300 s for a request, each checked every
 * 30 s, and 65 s of keep-alive before this change), far above the 1-2 s configured here.
 */
const GENEROUS_BOUND_MS = 20_000;

/** Connects to the server and resolves with everything it sent once it closes the connection. */
function openSocket(server: RunningServer): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = new Promise<string>((done, fail) => {
        const timer = setTimeout(() => {
          socket.destroy();
          fail(new Error(`the server kept the connection open; it sent: ${JSON.stringify(received)}`));
        }, GENEROUS_BOUND_MS);
        socket.once('close', () => {
          clearTimeout(timer);
          done(received);
        });
      });
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** A closed connection either got a 408 first or nothing at all, never an answer to the request. */
function assertTimedOut(received: string): void {
  assert.ok(received === '' || received.startsWith('HTTP/1.1 408'), `expected 408 or nothing, got ${JSON.stringify(received)}`);
}

describe('a client that is slow to send its request does not hold a connection', () => {
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-timeouts-'));
    const config = ConfigSchema.parse({
      port: 0,
      dataDir,
      adminPassword: ADMIN_PASSWORD,
      webDir: path.join(dataDir, 'no-web-build'),
      http: { headersTimeoutSeconds: 1, requestTimeoutSeconds: 2, keepAliveTimeoutSeconds: 1 },
    });
    server = await startServer(config, { auditSink: () => {}, logger: silentLogger });
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes a connection whose headers never finish (http.headersTimeoutSeconds)', async () => {
    const { socket, closed } = await openSocket(server);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    assertTimedOut(await closed);
  });

  it('closes a connection whose body stops arriving (http.requestTimeoutSeconds)', async () => {
    const { socket, closed } = await openSocket(server);
    socket.write(
      'POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type=',
    );
    assertTimedOut(await closed);
  });

  it('answers a complete request, then closes the idle keep-alive connection (http.keepAliveTimeoutSeconds)', async () => {
    const { socket, closed } = await openSocket(server);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    const received = await closed;
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(received, /\{"status":"ok"\}$/);
  });

  it('gives every connection the inactivity limit of http.idleTimeoutSeconds, 60 s unless configured', () => {
    assert.equal(server.server.timeout, 60_000);
  });
});
