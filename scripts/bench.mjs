#!/usr/bin/env node
// Load benchmark for the Gatehouse API.
//
//   npm run bench                      builds the API, then runs this script
//   BENCH_SECONDS=3 node scripts/bench.mjs   (after a build) shorter run
//
// Starts `node api/dist/main.js` on a free loopback port with a throw-away data directory,
// signs in once as the admin the way the SPA does, then measures one target after another
// with autocannon (32 connections, pipelining 1) or, for the code minting and the full code
// round trip, with 32 async workers on an undici Pool of 32 keep-alive connections (undici's
// low-level request API: plain header objects, no WHATWG fetch layer, so the load generator
// takes little of the CPU it shares with the server). Prints a table with the reference numbers of node-oidc-provider.
//
// Environment:
//   BENCH_SECONDS      seconds per target (default 10)
//   BENCH_CODES        codes to pre-mint for the code exchange (default 2500 × BENCH_SECONDS)
//   BENCH_SERVER_NODE_ARGS  extra node flags for the server, space-separated, e.g.
//                      "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS)
//
// Exit status: 1 when the server does not start, the setup fails or the server dies during
// the run; 0 otherwise (non-2xx answers under load are reported, not fatal).

/* global AbortSignal, performance, setInterval, clearInterval */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
// undici is a dev dependency of the api workspace (hoisted to the root node_modules).
import { Pool } from 'undici';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'api', 'dist', 'main.js');

const SECONDS = positiveInt('BENCH_SECONDS', 10);
const CONNECTIONS = 32;
const CODES = positiveInt('BENCH_CODES', 2500 * SECONDS);
/** Refresh chains: one per connection, plus spares in case a request is lost to a timeout. */
const REFRESH_SPARES = 8;
const CODE_TTL = 600; // GATEHOUSE_CODE_TTL maximum; minted codes must outlive minting + exchange
const MINT_TIME_LIMIT = 240; // seconds; after that the exchange runs with the codes minted so far
const READY_TIMEOUT = 30_000;
const SETUP_REQUEST_TIMEOUT = 15_000;
/** Hard limit for the whole run, so the script always stops by itself. */
const WATCHDOG = (120 + MINT_TIME_LIMIT + 6 * (SECONDS + 30)) * 1000;

const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;
const CLIENT_ID = 'bench';
const CLIENT_SECRET = randomBytes(32).toString('base64url'); // 43 characters
const REDIRECT_URI = 'http://127.0.0.1:1/cb';
const BASIC = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

/** node-oidc-provider on one core, requests (or round trips) per second. */
const REFERENCE = {
  discovery: 4600,
  jwks: 18000,
  userinfo: 7000,
  'refresh (rotating)': 730,
  'code round trip': 900,
};

function positiveInt(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
    process.exit(1);
  }
  return n;
}

class SetupError extends Error {}

const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The server process

let child;
let childExited = null; // { code, signal } once the server has exited
let dataDir;
let stderrTail = '';
let stderrBytes = 0;
let stopping = false;
const STDERR_KEEP = 64 * 1024;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startServer(port) {
  dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
  // loadConfig refuses unknown GATEHOUSE_* variables, so do not pass the caller's through.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')));
  Object.assign(env, {
    GATEHOUSE_PORT: String(port),
    GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    GATEHOUSE_RATE_LIMIT_TOKEN: '100000000',
    GATEHOUSE_RATE_LIMIT_API: '100000000',
    GATEHOUSE_RATE_LIMIT_LOGIN: '100000000',
    GATEHOUSE_CODE_TTL: String(CODE_TTL),
    GATEHOUSE_CLIENTS: JSON.stringify([
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        name: 'Bench',
        redirect_uris: [REDIRECT_URI],
        consent: 'implicit',
        scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
      },
    ]),
  });
  // stdout (an audit line per token) goes to /dev/null; stderr is kept and shown on failure.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  child = spawn(process.execPath, [...nodeArgs, MAIN], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    stderrBytes += Buffer.byteLength(s);
    stderrTail = (stderrTail + s).slice(-STDERR_KEEP);
  });
  child.once('exit', (code, signal) => {
    childExited = { code, signal };
    if (!stopping) log(`\n!! the server exited unexpectedly (code ${code}, signal ${signal})`);
  });
}

function serverGone() {
  return childExited !== null;
}

/** VmHWM (peak) or VmRSS (current) of the server in MiB, from /proc/<pid>/status. */
function rssMiB(field = 'VmHWM') {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}
const peakRssMiB = () => rssMiB('VmHWM');

/** CPU seconds (user + system) the server has used so far, from /proc/<pid>/stat. */
function cpuSeconds() {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}
const CLK_TCK = 100; // USER_HZ on Linux

async function waitReady(base) {
  const deadline = Date.now() + READY_TIMEOUT;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (serverGone())
      throw new SetupError(`the server exited before it was ready (code ${childExited.code}, signal ${childExited.signal})`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await sleep(100);
  }
  throw new SetupError(`the server was not ready within ${READY_TIMEOUT / 1000}s (last: ${last})`);
}

async function stopServer() {
  if (!child || serverGone()) return;
  stopping = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function removeDataDir() {
  if (dataDir) {
    rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  }
}

function printStderr(always) {
  if (stderrBytes === 0) return;
  if (!always) {
    log(`\nserver stderr: ${stderrBytes} bytes (last ${Math.min(stderrBytes, 2000)} shown):`);
    log(stderrTail.slice(-2000).trimEnd());
    return;
  }
  log(`\nserver stderr (${stderrBytes} bytes, last ${Math.min(stderrBytes, STDERR_KEEP)} kept):`);
  log(stderrTail.trimEnd());
}

// Last resort: never leave the server or the data directory behind.
process.on('exit', () => {
  if (child && !serverGone()) child.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    log(`\ninterrupted (${sig})`);
    void shutdown(130);
  });
}

// ---------------------------------------------------------------------------------------------
// A browser: fetch with manual redirects and the two Gatehouse cookies

function setCookies(res, jar) {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';')[0];
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

async function expectStatus(res, status, what) {
  if (res.status !== status) {
    const body = await res.text().catch(() => '');
    throw new SetupError(`${what}: expected HTTP ${status}, got ${res.status}: ${body.slice(0, 500)}`);
  }
}

async function signIn(base, authorizeUrl) {
  const jar = new Map();
  const opts = () => ({ redirect: 'manual', signal: AbortSignal.timeout(SETUP_REQUEST_TIMEOUT), headers: { cookie: cookieHeader(jar) } });

  let res = await fetch(authorizeUrl, opts());
  await expectStatus(res, 303, 'GET /oauth2/authorize (signed out)');
  await res.arrayBuffer();
  setCookies(res, jar);
  const login = new URL(res.headers.get('location'), base);
  const interaction = login.searchParams.get('interaction');
  if (login.origin !== base || login.pathname !== '/login' || !interaction) {
    throw new SetupError(`GET /oauth2/authorize: expected a redirect to ${base}/login?interaction=…, got ${login}`);
  }
  if (!jar.has('gatehouse_browser')) throw new SetupError('GET /oauth2/authorize: no gatehouse_browser cookie was set');

  res = await fetch(`${base}/api/v1/interactions/${encodeURIComponent(interaction)}/login`, {
    ...opts(),
    method: 'POST',
    headers: { ...opts().headers, 'content-type': 'application/json', origin: base, 'x-gatehouse-csrf': '1' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  await expectStatus(res, 200, 'POST /api/v1/interactions/:id/login');
  setCookies(res, jar);
  const next = await res.json();
  if (next.next !== 'redirect' || !next.location) throw new SetupError(`login answered ${JSON.stringify(next)}, expected a redirect`);
  if (!jar.has('gatehouse_session')) throw new SetupError('login: no gatehouse_session cookie was set');

  res = await fetch(new URL(next.location, base), opts());
  await expectStatus(res, 303, `GET ${next.location}`);
  await res.arrayBuffer();
  setCookies(res, jar);
  const callback = new URL(res.headers.get('location'));
  if (!callback.href.startsWith(REDIRECT_URI) || !callback.searchParams.get('code')) {
    throw new SetupError(`resuming the authorization: expected a redirect to ${REDIRECT_URI}?code=…, got ${callback}`);
  }
  return cookieHeader(jar);
}

// The load generator for minting and round trips: one keep-alive pool, 32 connections, no
// pipelining, so 32 workers have one connection each (as autocannon's 32 connections).
let pool;
function openPool(base) {
  pool = new Pool(base, {
    connections: CONNECTIONS,
    pipelining: 1,
    headersTimeout: SETUP_REQUEST_TIMEOUT,
    bodyTimeout: SETUP_REQUEST_TIMEOUT,
  });
}

class RequestTimeout extends Error {
  name = 'TimeoutError';
}

/**
 * One request on the pool; resolves with status, headers (lower-case names) and the body text.
 * The pool's headers and body timeouts bound it (no per-request AbortSignal timer).
 */
async function send(opts) {
  try {
    const res = await pool.request(opts);
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } catch (err) {
    if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
      throw new RequestTimeout(`${opts.method} ${opts.path}: no answer within ${SETUP_REQUEST_TIMEOUT / 1000}s`);
    }
    throw err;
  }
}

/** One authorize GET as the signed-in browser; returns the code. Throws with a short reason. */
async function mintCode(authorizePath, cookie) {
  const res = await send({ method: 'GET', path: authorizePath, headers: { cookie } });
  const location = res.headers.location;
  const code = res.status === 303 && typeof location === 'string' ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`authorize: HTTP ${res.status} ${location ?? ''} ${res.body.slice(0, 300)}`.trim());
  return code;
}

const TOKEN_HEADERS = { authorization: BASIC, 'content-type': FORM };

async function exchangeCode(code) {
  const res = await send({ method: 'POST', path: '/oauth2/token', headers: TOKEN_HEADERS, body: codeBody(code) });
  if (res.status !== 200) throw new Error(`token: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body);
}

const codeBody = (code) =>
  `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
const refreshBody = (token) => `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`;

/** Runs `workers` concurrent loops of `task` until `until()` is true; errors are counted, first kept. */
async function workerPool(workers, until, task) {
  const latencies = [];
  let ok = 0;
  let failed = 0;
  let firstError = null;
  const loop = async () => {
    while (!until() && !serverGone()) {
      const t0 = performance.now();
      try {
        await task();
        latencies.push(performance.now() - t0);
        ok++;
      } catch (err) {
        failed++;
        firstError ??= err.message;
        if (err.name === 'TimeoutError' || (err.code ?? err.cause?.code) === 'ECONNREFUSED') await sleep(50);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, loop));
  return { ok, failed, firstError, latencies, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
// Measuring

const results = [];
let readyRss = null;

/** Runs autocannon; the result row is added to `results`. */
async function cannon(name, opts, { stopAfter, expectOk } = {}) {
  if (serverGone()) throw new SetupError(`the server is gone; cannot measure ${name}`);
  let firstError = null;
  const keepFirstError = (status, body) => {
    if (status >= 300 && firstError === null) firstError = `HTTP ${status} ${String(body).slice(0, 500)}`;
  };
  const requests = (opts.requests ?? [{}]).map((r) => {
    const onResponse = r.onResponse;
    return {
      ...r,
      onResponse(status, body, context, headers) {
        keepFirstError(status, body);
        onResponse?.(status, body, context, headers);
      },
    };
  });
  process.stdout.write(`${name.padEnd(22)} … `);
  const cpu0 = cpuSeconds();
  const ownCpu0 = process.cpuUsage();
  const instance = autocannon({ connections: CONNECTIONS, pipelining: 1, duration: SECONDS, timeout: 10, ...opts, requests });
  // With `amount`, autocannon ignores the duration; stop it ourselves after the duration.
  const timer = stopAfter ? setTimeout(() => instance.stop(), stopAfter * 1000) : undefined;
  const exitWatch = setInterval(() => serverGone() && instance.stop(), 200);
  const res = await instance;
  clearTimeout(timer);
  clearInterval(exitWatch);
  const row = {
    name,
    rps: res.duration > 0 ? res.latency.totalCount / res.duration : 0,
    p50: res.latency.p50,
    p99: res.latency.p99,
    count: res.latency.totalCount,
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
    statusCodes: Object.fromEntries(Object.entries(res.statusCodeStats).map(([k, v]) => [k, v.count])),
    seconds: res.duration,
    rss: peakRssMiB(),
    cpu: cpuPercent(cpu0, res.duration),
    clientCpu: ownCpuPercent(ownCpu0, res.duration),
    firstError,
    expectOk,
  };
  results.push(row);
  log(describeRow(row));
  return row;
}

function ownCpuPercent(since, seconds) {
  const { user, system } = process.cpuUsage(since);
  return seconds > 0 ? ((user + system) / 1e6 / seconds) * 100 : null;
}

/** Resource usage after a target: CPU of server and load generator, memory, system load. */
function usage(r) {
  return (
    `server CPU ${fmt(r.cpu, 0)}%, bench CPU ${fmt(r.clientCpu, 0)}%, ` +
    `server RSS ${fmt(rssMiB('VmRSS'), 0)} MiB (peak ${fmt(r.rss, 0)}), load ${loadavg()[0].toFixed(1)}`
  );
}

function cpuPercent(cpu0, seconds) {
  const cpu1 = cpuSeconds();
  return cpu0 === null || cpu1 === null || !(seconds > 0) ? null : ((cpu1 - cpu0) / seconds) * 100;
}

function describeRow(r) {
  const codes = Object.entries(r.statusCodes ?? {})
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  return `${fmt(r.rps, 0)} req/s over ${r.seconds.toFixed(1)}s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, non-2xx ${r.non2xx}, socket errors ${r.errors} (timeouts ${r.timeouts}) [${codes}]; ${usage(r)}${r.note ? `, ${r.note}` : ''}`;
}

function fmt(n, digits) {
  return n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

async function run() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const authorizePath =
    `/oauth2/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}` +
    '&response_type=code&scope=openid%20profile%20email%20groups&state=s&nonce=n';
  const authorizeUrl = `${base}${authorizePath}`;

  if (!existsSync(MAIN)) throw new SetupError(`${path.relative(ROOT, MAIN)} does not exist; build first (npm run bench builds it)`);
  log(
    `Gatehouse benchmark: ${SECONDS}s per target, ${CONNECTIONS} connections, pipelining 1, node ${process.version}, ` +
      `${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  startServer(port);
  log(`server pid ${child.pid} on ${base}, data in ${dataDir}`);
  await waitReady(base);
  readyRss = peakRssMiB();

  // --- Setup: sign in, prove the flow works, collect tokens --------------------------------
  const cookie = await signIn(base, authorizeUrl);
  openPool(base);
  let first;
  try {
    first = await exchangeCode(await mintCode(authorizePath, cookie));
  } catch (err) {
    throw new SetupError(`first code exchange failed: ${err.message}`);
  }
  if (!first.access_token || !first.refresh_token || !first.id_token) {
    throw new SetupError(`the token response lacks access_token, refresh_token or id_token: ${JSON.stringify(first).slice(0, 300)}`);
  }
  {
    const res = await fetch(`${base}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${first.access_token}` },
      signal: AbortSignal.timeout(SETUP_REQUEST_TIMEOUT),
    });
    await expectStatus(res, 200, 'GET /oauth2/userinfo');
    await res.arrayBuffer();
  }
  log('signed in as admin; authorize → code → token → userinfo works');

  // Refresh chains: 32 + spares from code exchanges.
  const refreshPool = [];
  try {
    for (let i = 0; i < CONNECTIONS + REFRESH_SPARES; i++) {
      refreshPool.push((await exchangeCode(await mintCode(authorizePath, cookie))).refresh_token);
    }
  } catch (err) {
    throw new SetupError(`collecting refresh tokens failed: ${err.message}`);
  }

  // --- a, b: static documents --------------------------------------------------------------
  await cannon('discovery', { url: `${base}/.well-known/openid-configuration` });
  await cannon('jwks', { url: `${base}/oauth2/jwks` });

  // --- c: code exchange, with pre-minted codes ---------------------------------------------
  process.stdout.write(`minting ${CODES} codes with ${CONNECTIONS} workers … `);
  const codes = [];
  const mintDeadline = performance.now() + MINT_TIME_LIMIT * 1000;
  const mintCpu0 = cpuSeconds();
  const mintOwn0 = process.cpuUsage();
  const mint = await workerPool(
    CONNECTIONS,
    () => codes.length >= CODES || performance.now() > mintDeadline,
    async () => codes.push(await mintCode(authorizePath, cookie)),
  );
  codes.length = Math.min(codes.length, CODES);
  const mintSorted = mint.latencies.sort((a, b) => a - b);
  const mintRow = {
    name: 'authorize (minting)',
    rps: mint.ok / mint.seconds,
    p50: percentile(mintSorted, 50),
    p99: percentile(mintSorted, 99),
    non2xx: mint.failed,
    errors: 0,
    seconds: mint.seconds,
    rss: peakRssMiB(),
    cpu: cpuPercent(mintCpu0, mint.seconds),
    clientCpu: ownCpuPercent(mintOwn0, mint.seconds),
    firstError: mint.firstError,
    expectOk: true,
  };
  results.push(mintRow);
  log(
    `${codes.length} in ${mint.seconds.toFixed(1)}s: ${fmt(mintRow.rps, 0)} authorize/s, p50 ${fmt(mintRow.p50, 1)} ms, ` +
      `p99 ${fmt(mintRow.p99, 1)} ms, failures ${mint.failed}; ${usage(mintRow)}`,
  );
  if (mint.failed > 0) log(`   first minting failure: ${mint.firstError}`);
  if (serverGone()) throw new SetupError('the server died while minting codes');
  if (codes.length < CONNECTIONS) throw new SetupError(`only ${codes.length} codes could be minted`);

  const mintedCount = codes.length;
  const exchange = await cannon(
    'code exchange',
    {
      url: `${base}/oauth2/token`,
      amount: mintedCount,
      requests: [
        {
          method: 'POST',
          headers: { authorization: BASIC, 'content-type': FORM },
          setupRequest(req) {
            const code = codes.pop() ?? 'exhausted';
            return { ...req, body: codeBody(code) };
          },
        },
      ],
    },
    { stopAfter: SECONDS, expectOk: true },
  );
  if (codes.length === 0 && exchange.seconds < SECONDS - 0.5) {
    exchange.note = `codes ran out after ${exchange.seconds.toFixed(1)}s`;
    log(`   note: all ${mintedCount} codes were used after ${exchange.seconds.toFixed(1)}s (raise BENCH_CODES for a full-length run)`);
  }

  // --- d: refresh with rotation, one chain per in-flight request ----------------------------
  // autocannon resets a connection's context every time it loops over `requests`, so the
  // context cannot carry a token from one request to the next. Instead each request takes a
  // token from the pool in setupRequest and puts the rotated one back in onResponse: every
  // token is in exactly one request at a time, so there are 32 strictly sequential chains.
  let exhaustedRefresh = 0;
  const refresh = await cannon(
    'refresh (rotating)',
    {
      url: `${base}/oauth2/token`,
      requests: [
        {
          method: 'POST',
          headers: { authorization: BASIC, 'content-type': FORM },
          setupRequest(req, context) {
            context.token = refreshPool.shift();
            if (context.token === undefined) exhaustedRefresh++;
            return { ...req, body: refreshBody(context.token ?? 'exhausted') };
          },
          onResponse(status, body, context) {
            if (context.token === undefined) return;
            let next;
            if (status === 200) {
              try {
                next = JSON.parse(body).refresh_token;
              } catch {
                /* counted below as a lost chain */
              }
            }
            // On an error the presented token was not rotated (or is dead anyway): keep it.
            refreshPool.push(next ?? context.token);
            context.token = undefined;
          },
        },
      ],
    },
    { expectOk: true },
  );
  if (exhaustedRefresh > 0) refresh.note = `${exhaustedRefresh} requests found no refresh token`;

  // --- e: userinfo --------------------------------------------------------------------------
  await cannon(
    'userinfo',
    { url: `${base}/oauth2/userinfo`, headers: { authorization: `Bearer ${first.access_token}` } },
    { expectOk: true },
  );

  // --- f: full code round trip: authorize (signed in) → code → token -----------------------
  process.stdout.write(`${'code round trip'.padEnd(22)} … `);
  const end = performance.now() + SECONDS * 1000;
  const tripCpu0 = cpuSeconds();
  const tripOwn0 = process.cpuUsage();
  const trip = await workerPool(
    CONNECTIONS,
    () => performance.now() >= end,
    async () => {
      const tokens = await exchangeCode(await mintCode(authorizePath, cookie));
      if (!tokens.access_token) throw new Error('token: no access_token in the response');
    },
  );
  const tripSorted = trip.latencies.sort((a, b) => a - b);
  const tripRow = {
    name: 'code round trip',
    rps: trip.ok / trip.seconds,
    p50: percentile(tripSorted, 50),
    p99: percentile(tripSorted, 99),
    non2xx: trip.failed,
    errors: 0,
    timeouts: 0,
    seconds: trip.seconds,
    rss: peakRssMiB(),
    cpu: cpuPercent(tripCpu0, trip.seconds),
    clientCpu: ownCpuPercent(tripOwn0, trip.seconds),
    firstError: trip.firstError,
    expectOk: true,
  };
  results.push(tripRow);
  log(
    `${fmt(tripRow.rps, 0)} round trips/s over ${trip.seconds.toFixed(1)}s, p50 ${fmt(tripRow.p50, 1)} ms, p99 ${fmt(tripRow.p99, 1)} ms, failed ${trip.failed}; ${usage(tripRow)}`,
  );
  if (serverGone()) throw new SetupError('the server died during the round-trip benchmark');
}

function printTable() {
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MiB', 'server CPU %', 'node-oidc-provider req/s'];
  const rows = results.map((r) => [
    r.name,
    fmt(r.rps, 0),
    fmt(r.p50, 1),
    fmt(r.p99, 1),
    String(r.non2xx + (r.errors ?? 0)),
    fmt(r.rss, 0),
    fmt(r.cpu, 0),
    REFERENCE[r.name] ? String(REFERENCE[r.name]) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  log('');
  log(line(head));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(line(r));
  log('');
  log(`${CONNECTIONS} connections, ${SECONDS}s per target. errors = non-2xx answers + socket errors/timeouts`);
  log('(for "authorize (minting)" and "code round trip": failed iterations). Peak RSS is the');
  log("server's VmHWM after each target, i.e. the high-water mark so far, not per target;");
  log(`it was ${fmt(readyRss, 0)} MiB once the server was ready. Server CPU % = server CPU time / wall time`);
  log('(100 = one core; above 100 when crypto runs on the libuv thread pool). The load generator runs on');
  log(
    `the same machine; load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs.`,
  );
  log('"authorize (minting)" is the code-minting phase (signed-in authorize GETs, 32 workers on an undici Pool), for information.');
  log('Reference: node-oidc-provider on one core: 4,600 discovery, 18,000 JWKS, 7,000 userinfo,');
  log('730 rotating refresh and 900 full code round trips per second.');

  for (const r of results) {
    if (r.note) log(`\nnote: ${r.name}: ${r.note}`);
    if ((r.non2xx > 0 || r.errors > 0) && r.expectOk) {
      log(`\nWARNING: ${r.name}: ${r.non2xx} non-2xx/failed, ${r.errors ?? 0} socket errors; this means a bug or a bad setup.`);
      if (r.firstError) log(`  first error: ${r.firstError}`);
    } else if (r.non2xx > 0 || r.errors > 0) {
      log(`\nnote: ${r.name}: ${r.non2xx} non-2xx, ${r.errors} socket errors${r.firstError ? `; first: ${r.firstError}` : ''}`);
    }
  }
}

let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  try {
    await pool?.destroy();
    await stopServer();
  } finally {
    removeDataDir();
    process.exit(code);
  }
}

const watchdog = setTimeout(() => {
  log(`\nthe benchmark did not finish within ${WATCHDOG / 1000}s; stopping`);
  printStderr(true);
  void shutdown(1);
}, WATCHDOG);
watchdog.unref();

try {
  await run();
  printTable();
  printStderr(false);
  clearTimeout(watchdog);
  await shutdown(0);
} catch (err) {
  clearTimeout(watchdog);
  if (results.length > 0) printTable();
  log(`\nbenchmark failed: ${err instanceof SetupError ? err.message : (err?.stack ?? String(err))}`);
  printStderr(true);
  await shutdown(1);
}
