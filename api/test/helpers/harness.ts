import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { ClientRegistrationInput, InteractionNext } from '@gatehouse/shared';
import { CSRF_HEADER, CSRF_HEADER_VALUE } from '@gatehouse/shared';
import { createApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import { ConfigSchema, type ConfigInput } from '../../src/config/schema.js';
import { buildContext, type AppContext } from '../../src/context.js';
import { silentLogger } from '../../src/http/logger.js';
import { hashPassword } from '../../src/identity/passwords.js';
import { ManualClock } from '../../src/lib/clock.js';

export const ISSUER = 'http://localhost:4000';
export const SECRET = 'confidential-client-secret-0123456789';

export const CONFIDENTIAL: ClientRegistrationInput = {
  client_id: 'grafana',
  client_secret: SECRET,
  name: 'Grafana',
  redirect_uris: ['https://grafana.example.org/login/generic_oauth', 'http://127.0.0.1:8000/cb'],
  consent: 'explicit',
};
export const PUBLIC: ClientRegistrationInput = {
  client_id: 'cli',
  name: 'Command line',
  type: 'public',
  redirect_uris: ['http://127.0.0.1:9000/callback'],
  consent: 'implicit',
};
export const PASSWORD = 'alice-password-123';

export interface Harness {
  ctx: AppContext;
  app: ReturnType<typeof createApp>;
  clock: ManualClock;
  audit: string[];
  dataDir: string;
  /** Closes the database; `keepData` leaves the directory for a restart. */
  close(keepData?: boolean): Promise<void>;
}

let userPasswordHash: Promise<string> | undefined;

/** A Gatehouse on a fresh SQLite file with two clients and the user alice (groups staff, ops). */
export async function harness(overrides: Partial<ConfigInput> = {}, dataDir?: string): Promise<Harness> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const config = ConfigSchema.parse({
    issuer: ISSUER,
    dataDir: dir,
    adminPassword: 'admin-password-123',
    clients: [CONFIDENTIAL, PUBLIC],
    // API tests do not depend on whether the SPA happens to be built (test/web covers serving it).
    webDir: path.join(dir, 'no-web-build'),
    ...overrides,
  });
  const clock = new ManualClock(1_800_000_000);
  const audit: string[] = [];
  const ctx = await buildContext(config, { clock, auditSink: (l) => audit.push(l), logger: silentLogger });
  await bootstrap(ctx);
  if (!(await ctx.storage.users.findByLogin('alice'))) {
    userPasswordHash ??= hashPassword(PASSWORD);
    await ctx.storage.users.insert(
      {
        id: 'user-alice',
        username: 'alice',
        email: 'alice@example.org',
        emailVerified: true,
        name: 'Alice Liddell',
        nickname: null,
        passwordHash: await userPasswordHash,
        isAdmin: false,
        disabled: false,
      },
      clock.now(),
    );
    await ctx.storage.users.addToGroups('user-alice', ['staff', 'ops'], () => randomBytes(8).toString('hex'));
  }
  return {
    ctx,
    app: createApp(ctx),
    clock,
    audit,
    dataDir: dir,
    async close(keepData = false) {
      await ctx.close();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Path and query of an absolute Location, for following it with supertest. */
export function local(location: string | undefined): string {
  if (!location) throw new Error('no Location header');
  const url = new URL(location);
  return url.pathname + url.search;
}

export const csrf = { Origin: ISSUER, [CSRF_HEADER]: CSRF_HEADER_VALUE };

export type Agent = ReturnType<typeof request.agent>;

/** A browser: keeps cookies across requests. */
export function browser(h: Harness): Agent {
  return request.agent(h.app);
}

export function authorizeQuery(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `/oauth2/authorize?${q}`;
}

export const confidentialParams = (extra: Record<string, string | undefined> = {}) => ({
  client_id: 'grafana',
  redirect_uri: 'http://127.0.0.1:8000/cb',
  response_type: 'code',
  scope: 'openid profile email groups',
  state: 'state-123',
  nonce: 'nonce-456',
  ...extra,
});

/** Starts an authorization request; returns the interaction id the SPA would be given. */
export async function startInteraction(agent: Agent, params: Record<string, string | undefined>): Promise<{ id: string; screen: string }> {
  const res = await agent.get(authorizeQuery(params)).expect(303);
  const url = new URL(res.headers.location!);
  const id = url.searchParams.get('interaction');
  if (!id) throw new Error(`expected an interaction redirect, got ${res.headers.location}`);
  return { id, screen: url.pathname };
}

export async function submitLogin(agent: Agent, id: string, username = 'alice', password = PASSWORD): Promise<InteractionNext> {
  const res = await agent.post(`/api/v1/interactions/${id}/login`).set(csrf).send({ username, password }).expect(200);
  return res.body as InteractionNext;
}

export async function submitConsent(agent: Agent, id: string, approve = true): Promise<InteractionNext> {
  const res = await agent.post(`/api/v1/interactions/${id}/consent`).set(csrf).send({ approve }).expect(200);
  return res.body as InteractionNext;
}

/** Follows a resume URL; returns the final redirect to the client as a URL. */
export async function resume(agent: Agent, location: string): Promise<URL> {
  const res = await agent.get(local(location)).expect(303);
  return new URL(res.headers.location!);
}

/**
 * The whole browser side of a code flow: authorize, sign in, approve if asked, resume.
 * Returns the client's redirect URL (with code or error).
 */
export async function authorize(agent: Agent, params: Record<string, string | undefined>): Promise<URL> {
  const first = await agent.get(authorizeQuery(params)).expect(303);
  let location = first.headers.location!;
  for (let step = 0; step < 4; step++) {
    const url = new URL(location);
    const id = url.searchParams.get('interaction');
    if (url.origin !== ISSUER || !id) return url;
    let next: InteractionNext;
    if (url.pathname === '/login') next = await submitLogin(agent, id);
    else if (url.pathname === '/consent') next = await submitConsent(agent, id);
    else return url;
    if (next.next === 'consent') next = await submitConsent(agent, id);
    if (next.next !== 'redirect') throw new Error('unexpected interaction answer');
    location = (await agent.get(local(next.location)).expect(303)).headers.location!;
  }
  throw new Error('authorization did not finish');
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Redeems a code as a confidential client (grafana unless `client_id` says otherwise). */
export function redeem(h: Harness, code: string, extra: Record<string, string> = {}) {
  const { client_id: clientId = 'grafana', ...params } = extra;
  return request(h.app)
    .post('/oauth2/token')
    .set('Authorization', basic(clientId, SECRET))
    .type('form')
    .send({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:8000/cb', ...params });
}

export function refreshWith(h: Harness, refreshToken: string, extra: Record<string, string> = {}) {
  return request(h.app)
    .post('/oauth2/token')
    .set('Authorization', basic('grafana', SECRET))
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** A free TCP port on loopback, for servers whose issuer must name their port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}
