import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
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
import { startOpenBaoEmulator, type OpenBaoEmulator } from '../openbao/emulator.js';

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
/** The bootstrap admin's password in every harness. */
export const ADMIN_PASSWORD = 'admin-password-123';
/** alice's user id: a UUID, so the same id serves as her OpenBao entity id. */
export const ALICE_ID = '5f0c1e7a-3b2d-4c8e-9a61-7d4e2b9f0c11';

/**
 * The identity backend the shared suites run on. `GATEHOUSE_TEST_IDENTITY=openbao` puts every
 * harness in front of the OpenBao emulator (test/openbao/emulator.ts) holding the same users:
 * alice (staff, ops) and admin (gatehouse-admins), neither asked for a second factor by OpenBao.
 */
export const BACKEND: 'sqlite' | 'openbao' = process.env.GATEHOUSE_TEST_IDENTITY === 'openbao' ? 'openbao' : 'sqlite';
/** Whether the backend lets Gatehouse create, edit and delete users and groups. */
export const MANAGES_USERS = BACKEND === 'sqlite';

const notHere = (() => undefined) as unknown as typeof it;
/**
 * `it` and `describe` for what only a backend that keeps users and groups itself offers (user and
 * group management, invitations, recovery codes, group second-factor rules). On OpenBao those
 * calls answer 501 not_supported, which test/openbao/admin.test.ts asserts.
 */
export const itManagingUsers: typeof it = MANAGES_USERS ? it : notHere;
export const describeManagingUsers: typeof describe = MANAGES_USERS ? describe : (notHere as unknown as typeof describe);

export interface Harness {
  ctx: AppContext;
  app: ReturnType<typeof createApp>;
  clock: ManualClock;
  audit: string[];
  dataDir: string;
  /** The OpenBao emulator behind this harness, on the openbao backend. */
  bao?: OpenBaoEmulator;
  /** Closes the database; `keepData` leaves the directory for a restart. */
  close(keepData?: boolean): Promise<void>;
}

let userPasswordHash: Promise<string> | undefined;

/** An emulated OpenBao and the clock it reads: the clock of the harness currently in front of it. */
interface OpenBaoBehind {
  bao: OpenBaoEmulator;
  clock: { current: ManualClock };
}

/** Emulators kept for a harness restarted on the same data directory (`close(true)`). */
const kept = new Map<string, OpenBaoBehind>();

async function openBaoWithUsers(current: ManualClock): Promise<OpenBaoBehind> {
  const clock = { current };
  const bao = await startOpenBaoEmulator({
    clock: { now: () => clock.current.now(), advance: (s) => clock.current.advance(s) },
    // A real deployment's choice: OpenBao asks members of "two-factor" for TOTP, nobody else.
    enforceMfa: { groups: ['two-factor'] },
    // OpenBao's default token TTL (768 h): Gatehouse's own session lifetimes apply first.
    userTokenTtl: 768 * 3600,
  });
  for (const group of ['staff', 'ops', 'gatehouse-admins', 'two-factor']) bao.addGroup(group);
  bao.addUser('alice', PASSWORD, {
    id: ALICE_ID,
    name: 'Alice Liddell',
    email: 'alice@example.org',
    metadata: { email_verified: 'true' },
    groups: ['staff', 'ops'],
  });
  bao.addUser('admin', ADMIN_PASSWORD, { name: 'Administrator', groups: ['gatehouse-admins'] });
  return { bao, clock };
}

/**
 * A Gatehouse on a fresh SQLite file with two clients and the user alice (groups staff, ops),
 * on the identity backend `BACKEND` names unless `overrides` choose one.
 */
export async function harness(overrides: Partial<ConfigInput> = {}, dataDir?: string): Promise<Harness> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const clock = new ManualClock(1_800_000_000);
  const behind =
    BACKEND === 'openbao' && overrides.identityBackend === undefined ? (kept.get(dir) ?? (await openBaoWithUsers(clock))) : undefined;
  kept.delete(dir);
  const config = ConfigSchema.parse({
    issuer: ISSUER,
    dataDir: dir,
    adminPassword: ADMIN_PASSWORD,
    clients: [CONFIDENTIAL, PUBLIC],
    // API tests do not depend on whether the SPA happens to be built (test/web covers serving it).
    webDir: path.join(dir, 'no-web-build'),
    ...(behind && {
      identityBackend: 'openbao',
      openbao: { address: behind.bao.url, token: behind.bao.serviceToken, mfaMethodId: behind.bao.mfaMethodId },
    }),
    ...overrides,
  });
  if (behind) behind.clock.current = clock;
  const audit: string[] = [];
  const ctx = await buildContext(config, { clock, auditSink: (l) => audit.push(l), logger: silentLogger });
  await bootstrap(ctx);
  if (behind) {
    // Gatehouse's shadow rows for the entities, as their first sign-in would make them.
    for (const login of ['alice', 'admin']) {
      const user = await ctx.identity.directory.resolveUser(login);
      if (!user || !(await ctx.identity.findUser(user.id))) throw new Error(`the emulator has no ${login}`);
    }
  } else if (!(await ctx.storage.users.findByLogin('alice'))) {
    userPasswordHash ??= hashPassword(PASSWORD);
    await ctx.storage.users.insert(
      {
        id: ALICE_ID,
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
    await ctx.storage.users.addToGroups(ALICE_ID, ['staff', 'ops'], () => randomBytes(8).toString('hex'));
  }
  return {
    ctx,
    app: createApp(ctx),
    clock,
    audit,
    dataDir: dir,
    ...(behind && { bao: behind.bao }),
    async close(keepData = false) {
      await ctx.close();
      if (keepData) {
        if (behind) kept.set(dir, behind);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      await behind?.bao.stop();
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
