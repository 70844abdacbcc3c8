import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AuditPage } from '@gatehouse/shared';
import type { AuditEvent } from '../../src/audit/events.js';
import { bootstrap, purgeAuditLog } from '../../src/bootstrap.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/http/logger.js';
import { ManualClock } from '../../src/lib/clock.js';
import { startServer } from '../../src/server.js';
import { adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import { csrf, harness, type Agent, type Harness, ALICE_ID, MANAGES_USERS } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/audit';
const DAY = 24 * 3600;

async function page(agent: Agent, query = ''): Promise<AuditPage> {
  return AuditPage.parse((await agent.get(PATH + query).expect(200)).body);
}

/** Records events one second apart (after BOOT); answers their times. */
async function seed(h: Harness, events: AuditEvent[]): Promise<number[]> {
  const times: number[] = [];
  for (const e of events) {
    h.clock.advance(1);
    times.push(h.clock.now());
    await h.ctx.audit.record(e, h.clock.now());
  }
  return times;
}

/** A trail: three events about alice, one admin action on her, one about the cli client only. */
async function seedTrail(h: Harness) {
  const admin = await adminId(h);
  const times = await seed(h, [
    { event: 'login_failure', userId: ALICE_ID, clientId: 'grafana', ip: '192.0.2.1', detail: { reason: 'password' } },
    { event: 'login_success', userId: ALICE_ID, clientId: 'grafana', ip: '192.0.2.1' },
    { event: 'user_update', userId: ALICE_ID, actorId: admin, detail: { fields: 'name' } },
    { event: 'token_failure', clientId: 'cli', detail: { error: 'invalid_grant' } },
    { event: 'token_issued', userId: ALICE_ID, clientId: 'cli', detail: { grant_type: 'authorization_code' } },
  ]);
  return { admin, times };
}

const events = (p: AuditPage) => p.events.map((e) => e.event);

/** The trail a fresh harness starts with: the bootstrap admin's creation, on the embedded store only. */
const BOOT = MANAGES_USERS ? ['user_create'] : [];

/** Logfmt fields of one line: bare or quoted values with \" and \\ escapes. */
function parseLogfmt(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const re = /([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  let consumed = '';
  for (const m of line.matchAll(re)) {
    fields[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    consumed += m[0] + ' ';
  }
  assert.equal(consumed.trim(), line, 'the whole line is key=value pairs');
  return fields;
}

describe('admin: audit log', () => {
  it('lists every event newest first with its acting admin, to an admin session', async () => {
    const h = await harness();
    try {
      const { admin, times } = await seedTrail(h);
      const all = await page(await adminBrowser(h));
      // The admin's own sign-in comes last.
      assert.deepEqual(events(all), [
        'login_success',
        'token_issued',
        'token_failure',
        'user_update',
        'login_success',
        'login_failure',
        ...BOOT,
      ]);
      assert.deepEqual(
        all.events.map((e) => e.id),
        [...all.events.map((e) => e.id)].sort((a, b) => b - a),
      );
      const update = all.events.find((e) => e.event === 'user_update')!;
      assert.deepEqual(update, {
        id: update.id,
        at: times[2],
        event: 'user_update',
        outcome: 'success',
        userId: ALICE_ID,
        actorId: admin,
        clientId: null,
        ip: null,
        detail: { fields: 'name' },
      });
      assert.equal(all.events.find((e) => e.event === 'login_failure')!.outcome, 'failure');
      assert.equal(all.nextBefore, null);
    } finally {
      await h.close();
    }
  });

  it('filters by event, user (subject or acting admin), client, outcome and an inclusive time range, in combination', async () => {
    const h = await harness();
    try {
      const { admin, times } = await seedTrail(h);
      const token = await apiToken(h, admin, ['audit:read']);
      const get = async (query: string) =>
        AuditPage.parse(
          (
            await bearer(h, token)
              .get(PATH + query)
              .expect(200)
          ).body,
        );

      assert.deepEqual(events(await get('?event=login_failure')), ['login_failure']);
      assert.deepEqual(events(await get(`?user=${ALICE_ID}`)), ['token_issued', 'user_update', 'login_success', 'login_failure']);
      assert.deepEqual(
        events(await get(`?user=${admin}`)),
        ['user_update', ...BOOT],
        'events done by the admin and events about the admin',
      );
      assert.deepEqual(events(await get('?client=cli')), ['token_issued', 'token_failure']);
      assert.deepEqual(events(await get('?outcome=failure')), ['token_failure', 'login_failure']);
      assert.deepEqual(events(await get('?client=cli&outcome=success')), ['token_issued']);
      assert.deepEqual(events(await get(`?user=${ALICE_ID}&client=grafana&outcome=success`)), ['login_success']);
      assert.deepEqual(events(await get(`?from=${times[1]}&to=${times[3]}`)), ['token_failure', 'user_update', 'login_success']);
      assert.deepEqual(events(await get(`?from=${times[4]}`)), ['token_issued']);
      assert.deepEqual(events(await get(`?to=${times[0]}`)), ['login_failure', ...BOOT]);
      assert.deepEqual(events(await get(`?user=${ALICE_ID}&from=${times[2]}&to=${times[2]}`)), ['user_update']);
      assert.deepEqual((await get('?event=password_change')).events, [], 'no match is an empty page');
      assert.deepEqual((await get('?user=nobody')).events, []);
    } finally {
      await h.close();
    }
  });

  it('pages with before: each page continues below the last id, the last page has no nextBefore', async () => {
    const h = await harness();
    try {
      await seedTrail(h);
      const admin = await adminBrowser(h);
      const all = await page(admin, `?user=${ALICE_ID}`);
      assert.equal(all.events.length, 4);

      const first = await page(admin, `?user=${ALICE_ID}&limit=3`);
      assert.deepEqual(first.events, all.events.slice(0, 3));
      assert.equal(first.nextBefore, first.events[2]!.id);
      const second = await page(admin, `?user=${ALICE_ID}&limit=3&before=${first.nextBefore}`);
      assert.deepEqual(second.events, all.events.slice(3));
      assert.equal(second.nextBefore, null);

      const exact = await page(admin, `?user=${ALICE_ID}&limit=4`);
      assert.equal(exact.nextBefore, null, 'a page that ends exactly at the last event says so');
      const pairs = await page(admin, `?user=${ALICE_ID}&limit=2`);
      const rest = await page(admin, `?user=${ALICE_ID}&limit=2&before=${pairs.nextBefore}`);
      assert.deepEqual([...pairs.events, ...rest.events], all.events);
      assert.equal(rest.nextBefore, null);
    } finally {
      await h.close();
    }
  });

  it('refuses callers without audit:read: alice, an admin token without it, and alice holding it on paper', async () => {
    const h = await harness();
    try {
      const alice = await portalBrowser(h);
      const res = await alice.get(PATH).expect(403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      assert.equal(res.body.error.details.required, 'audit:read');

      const adminRead = await apiToken(h, await adminId(h), ['admin:write', 'profile:write']);
      const under = await bearer(h, adminRead).get(PATH).expect(403);
      assert.equal(under.body.error.code, 'insufficient_scope');
      assert.match(under.headers['www-authenticate'] ?? '', /error="insufficient_scope", scope="audit:read"/);

      // A token can never hold more than its owner: alice is no auditor.
      const aliceToken = await apiToken(h, ALICE_ID, ['audit:read']);
      assert.equal((await bearer(h, aliceToken).get(PATH).expect(403)).body.error.code, 'insufficient_scope');

      assert.equal((await request(h.app).get(PATH).expect(401)).body.error.code, 'unauthenticated');
    } finally {
      await h.close();
    }
  });

  it('answers a clear 400 for bad filters', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const bad = async (query: string, field: string) => {
        const res = await admin.get(PATH + query).expect(400);
        assert.equal(res.body.error.code, 'validation_failed');
        assert.ok(
          res.body.error.details.some((d: { field: string }) => d.field === field),
          `${query} names ${field}: ${JSON.stringify(res.body)}`,
        );
      };
      await bad('?limit=0', 'limit');
      await bad('?limit=501', 'limit');
      await bad('?before=abc', 'before');
      await bad('?before=0', 'before');
      await bad('?from=-1', 'from');
      await bad('?event=Login!', 'event');
      await bad('?outcome=maybe', 'outcome');
      await bad('?from=20&to=10', 'to');
      await bad('?event=a&event=b', 'event');
    } finally {
      await h.close();
    }
  });

  it('deletes events older than the retention at start-up and hourly, and audits each purge with its count', async () => {
    const h = await harness({ auditRetentionDays: 30 });
    try {
      const now = h.clock.now();
      const old = { outcome: 'success', userId: ALICE_ID, actorId: null, clientId: null, ip: null, detail: null };
      await h.ctx.storage.audit.insert({ ...old, at: now - 31 * DAY, event: 'login_success' });
      await h.ctx.storage.audit.insert({ ...old, at: now - 30 * DAY - 1, event: 'logout' });
      await h.ctx.storage.audit.insert({ ...old, at: now - 30 * DAY, event: 'profile_update' });

      await bootstrap(h.ctx);
      const admin = await adminBrowser(h);
      const alice = await page(admin, `?user=${ALICE_ID}`);
      assert.deepEqual(events(alice), ['profile_update'], 'an event exactly at the limit is kept');
      const purges = (await page(admin, '?event=audit_purge')).events;
      assert.equal(purges.length, 1);
      assert.deepEqual(purges[0]!.detail, { deleted: 2, before: now - 30 * DAY, retention_days: 30 });
      assert.ok(h.audit.some((l) => /\bevent=audit_purge\b.*\bdeleted=2\b/.test(l)));

      assert.equal(await purgeAuditLog(h.ctx), 0);
      assert.equal((await page(admin, '?event=audit_purge')).events.length, 1, 'a purge that deleted nothing is not recorded');

      h.clock.advance(DAY + 1);
      assert.equal(await purgeAuditLog(h.ctx), 1);
      assert.deepEqual(await h.ctx.storage.audit.list({ user: ALICE_ID }), []);
    } finally {
      await h.close();
    }
  });

  it('purges hourly while the server runs, and no more once it has stopped', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-audit-'));
    const clock = new ManualClock(1_800_000_000);
    let purged: (line: string) => void = () => {};
    const sink = (line: string) => {
      if (/\bevent=audit_purge\b/.test(line)) purged(line);
    };
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const config = ConfigSchema.parse({ port: 0, dataDir, adminPassword: 'admin-password-123', auditRetentionDays: 1 });
      const server = await startServer(config, { clock, auditSink: sink, logger: silentLogger });
      const purges = mock.method(server.ctx.storage.audit, 'purgeBefore');
      try {
        const now = clock.now();
        await server.ctx.storage.audit.insert({
          at: now - 2 * DAY,
          event: 'logout',
          outcome: 'success',
          userId: 'someone',
          actorId: null,
          clientId: null,
          ip: null,
          detail: null,
        });
        const line = new Promise<string>((resolve) => (purged = resolve));
        mock.timers.tick(60 * 60 * 1000);
        assert.match(await line, /\bdeleted=1\b/);
        mock.timers.tick(59 * 60 * 1000);
        assert.equal(purges.mock.callCount(), 1, 'hourly, not more often');
      } finally {
        await server.stop();
      }
      mock.timers.tick(3 * 60 * 60 * 1000);
      assert.equal(purges.mock.callCount(), 1, 'the timer is cleared on stop');
    } finally {
      mock.timers.reset();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('writes a username with a newline or quotes as one quoted value: it cannot forge a line or a field', async () => {
    const h = await harness();
    try {
      const forged = [
        'mallory\ntime=2030-01-01T00:00:00.000Z level=audit event=login_success outcome=success user=user-alice',
        'mallory" event=login_success outcome=success user="user-alice',
        'mallory\\" outcome=success x=\\"',
        'mallory\u2028level=audit event=login_success',
      ];
      for (const username of forged) {
        const from = h.audit.length;
        await request(h.app).post('/api/v1/session').set(csrf).send({ username, password: 'wrong' }).expect(401);
        const lines = h.audit.slice(from);
        assert.equal(lines.length, 1);
        const line = lines[0]!;
        assert.ok(!/[\r\n\u2028\u2029]/.test(line), 'one line');
        const fields = parseLogfmt(line);
        assert.equal(fields.event, 'login_failure');
        assert.equal(fields.outcome, 'failure');
        assert.equal(fields.user, undefined);
        assert.equal(fields.login, username.replace(/[\n\u2028]/g, ''));
      }
    } finally {
      await h.close();
    }
  });

  it('never lets an event detail replace the fields a line starts with', async () => {
    const h = await harness();
    try {
      const from = h.audit.length;
      await h.ctx.audit.record(
        { event: 'login_failure', userId: ALICE_ID, detail: { event: 'login_success', outcome: 'success' } },
        h.clock.now(),
      );
      const fields = parseLogfmt(h.audit[from]!);
      assert.equal(fields.event, 'login_failure');
      assert.equal(fields.outcome, 'failure');
    } finally {
      await h.close();
    }
  });
});
