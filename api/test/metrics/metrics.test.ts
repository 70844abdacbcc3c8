import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ipAllowList } from '../../src/metrics/allow-list.js';
import { authorize, browser, confidentialParams, csrf, harness, redeem, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const TOKEN = 'metrics-scrape-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of the Prometheus text exposition format (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(h: Harness): Promise<Sample[]> {
  const res = await request(h.app).get('/metrics').expect(200);
  return parseExposition(res.text);
}

/** The value of the one sample with this name and exactly these labels (0 when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(found.length <= 1, `one ${name} series for ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** Counter increases between two scrapes. */
function delta(before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}): number {
  return value(after, name, labels) - value(before, name, labels);
}

async function withHarness(overrides: Partial<ConfigInput>, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await harness(overrides);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

describe('metrics', () => {
  it('counts a failed and a successful sign-in, consent, the code, and the token exchange', async () => {
    await withHarness({}, async (h) => {
      const before = await scrape(h);
      await request(h.app).post('/api/v1/session').set(csrf).send({ username: 'alice', password: 'wrong-password' }).expect(401);
      const agent = browser(h);
      const redirect = await authorize(agent, confidentialParams());
      const code = redirect.searchParams.get('code')!;
      const tokens = (await redeem(h, code).expect(200)).body as { access_token: string };
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
      await redeem(h, code).expect(400);
      await request(h.app).get('/oauth2/userinfo').expect(401);
      const after = await scrape(h);

      assert.equal(delta(before, after, 'gatehouse_logins_total', { result: 'failure' }), 1);
      assert.equal(delta(before, after, 'gatehouse_logins_total', { result: 'success' }), 1);
      assert.equal(delta(before, after, 'gatehouse_consent_total', { result: 'granted' }), 1);
      assert.equal(delta(before, after, 'gatehouse_authorize_total', { result: 'success' }), 1);
      const exchange = { grant_type: 'authorization_code' };
      assert.equal(delta(before, after, 'gatehouse_token_requests_total', { ...exchange, result: 'success' }), 1);
      assert.equal(delta(before, after, 'gatehouse_token_requests_total', { ...exchange, result: 'failure' }), 1, 'the replayed code');
      assert.equal(delta(before, after, 'gatehouse_userinfo_total', { result: 'success' }), 1);
      assert.equal(delta(before, after, 'gatehouse_userinfo_total', { result: 'failure' }), 1);
    });
  });

  it('counts authorization errors redirected to the client by error code', async () => {
    await withHarness({}, async (h) => {
      const res = await request(h.app)
        .get(`/oauth2/authorize?${new URLSearchParams(confidentialParams({ prompt: 'none' }))}`)
        .expect(303);
      assert.equal(new URL(res.headers.location!).searchParams.get('error'), 'login_required');
      const after = await scrape(h);
      assert.equal(value(after, 'gatehouse_authorize_total', { result: 'failure', error: 'login_required' }), 1);
      assert.equal(value(after, 'gatehouse_authorize_total', { result: 'success' }), 0);
    });
  });

  it('counts password changes, API token operations and second-factor prompts', async () => {
    await withHarness({}, async (h) => {
      const agent = await portalBrowser(h);
      const created = await agent
        .post('/api/v1/me/tokens')
        .set(csrf)
        .send({ name: 'ci', scopes: ['tokens'], expiresInDays: 1 })
        .expect(201);
      await agent.delete(`/api/v1/me/tokens/${created.body.id}`).set(csrf).expect(204);
      await agent
        .post('/api/v1/me/password')
        .set(csrf)
        .send({ currentPassword: 'alice-password-123', newPassword: 'a-new-password-456' })
        .expect(204);
      const after = await scrape(h);
      assert.equal(value(after, 'gatehouse_api_token_operations_total', { operation: 'create', result: 'success' }), 1);
      assert.equal(value(after, 'gatehouse_api_token_operations_total', { operation: 'revoke', result: 'success' }), 1);
      assert.equal(value(after, 'gatehouse_password_changes_total', { result: 'success' }), 1);
      assert.equal(value(after, 'gatehouse_mfa_total', { result: 'challenge' }), 0, 'series exist before their first event');
    });
  });

  it('times requests by route pattern, never by raw path', async () => {
    await withHarness({}, async (h) => {
      const agent = await portalBrowser(h);
      await agent.delete('/api/v1/me/tokens/no-such-token-7f3a').set(csrf).expect(404);
      await request(h.app).get('/no/such/page-91b2').expect(503);
      await request(h.app).get('/.well-known/openid-configuration').expect(200);
      const samples = await scrape(h);
      const count = (route: string, method: string, status: string) =>
        value(samples, 'gatehouse_http_request_duration_seconds_count', { method, route, status });

      assert.equal(count('/api/v1/me/tokens/:id', 'DELETE', '404'), 1);
      assert.equal(count('/api/v1/session', 'POST', '200'), 1);
      assert.equal(count('/.well-known/openid-configuration', 'GET', '200'), 1, 'hot routes are timed too');
      assert.equal(count('/.*/', 'GET', '503'), 1, "the web app's catch-all route");
      const routes = new Set(samples.filter((s) => s.name.startsWith('gatehouse_http_request')).map((s) => s.labels.route));
      for (const route of routes) assert.ok(!/no-such-token|page-91b2/.test(route ?? ''), `a pattern, not a path: ${route}`);
      const bucket = { method: 'DELETE', route: '/api/v1/me/tokens/:id', status: '404', le: '+Inf' };
      assert.equal(value(samples, 'gatehouse_http_request_duration_seconds_bucket', bucket), 1);
    });
  });

  it('labels requests no route answered as unmatched', async () => {
    await withHarness({}, async (h) => {
      await request(h.app).get('/api/v1/nothing-here').expect(404);
      const samples = await scrape(h);
      assert.equal(
        value(samples, 'gatehouse_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }),
        1,
      );
    });
  });

  it('includes the process metrics and keeps each application in its own registry', async () => {
    await withHarness({}, async (a) => {
      await withHarness({}, async (b) => {
        await request(a.app).post('/api/v1/session').set(csrf).send({ username: 'alice', password: 'wrong-password' }).expect(401);
        const fromA = await scrape(a);
        const fromB = await scrape(b);
        assert.equal(value(fromA, 'gatehouse_logins_total', { result: 'failure' }), 1);
        assert.equal(value(fromB, 'gatehouse_logins_total', { result: 'failure' }), 0);
        assert.ok(fromA.some((s) => s.name === 'process_cpu_user_seconds_total'));
        assert.ok(fromA.some((s) => s.name === 'nodejs_heap_size_total_bytes'));
      });
    });
  });

  it('answers in the exposition format, uncached', async () => {
    await withHarness({}, async (h) => {
      const res = await request(h.app).get('/metrics').expect(200);
      assert.equal(res.headers['content-type'], h.ctx.metrics.registry.contentType);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(res.text, /^# HELP gatehouse_logins_total /m);
      assert.match(res.text, /^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
    });
  });

  it('refuses a scraper outside the allowed addresses when no token is configured (403)', async () => {
    await withHarness({ metrics: { allow: [] } }, async (h) => {
      const res = await request(h.app).get('/metrics').expect(403);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(res.headers['cache-control'], 'no-store');
    });
  });

  it('takes the client address from X-Forwarded-For behind a trusted proxy', async () => {
    await withHarness({ trustProxy: true, metrics: { allow: ['127.0.0.1/8', '10.0.0.0/8'] } }, async (h) => {
      await request(h.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9').expect(403);
      await request(h.app).get('/metrics').set('X-Forwarded-For', '10.1.2.3').expect(200);
    });
    await withHarness({ metrics: { allow: ['127.0.0.1/8'] } }, async (h) => {
      await request(h.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9').expect(200);
    });
  });

  it('asks for the token with 401 and a Bearer challenge, refuses a wrong one, accepts the right one', async () => {
    await withHarness({ metrics: { allow: [], token: TOKEN } }, async (h) => {
      const missing = await request(h.app).get('/metrics').expect(401);
      assert.equal(missing.body.error.code, 'unauthenticated');
      assert.match(missing.headers['www-authenticate'] ?? '', /^Bearer realm="http:\/\/localhost:4000"$/);

      const wrong = await request(h.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
      assert.equal(wrong.body.error.code, 'invalid_token');
      assert.match(wrong.headers['www-authenticate'] ?? '', /^Bearer realm="[^"]+", error="invalid_token"$/);
      await request(h.app).get('/metrics').set('Authorization', `Basic ${TOKEN}`).expect(401);

      const ok = await request(h.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
      assert.match(ok.text, /gatehouse_logins_total/);
    });
  });

  it('is rate limited per IP', async () => {
    await withHarness({ rateLimit: { api: 2 } }, async (h) => {
      await request(h.app).get('/metrics').expect(200);
      await request(h.app).get('/metrics').expect(200);
      const limited = await request(h.app).get('/metrics').expect(429);
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.ok(limited.headers['retry-after']);
    });
  });
});

describe('metrics allow list', () => {
  it('matches addresses and CIDR ranges of both families, IPv4 clients on IPv6 sockets included', () => {
    const allowed = ipAllowList(['127.0.0.1/8', '::1/128', '192.0.2.7', '2001:db8::/32']);
    for (const ip of ['127.0.0.1', '127.9.9.9', '::ffff:127.0.0.1', '::1', '192.0.2.7', '::ffff:192.0.2.7', '2001:db8::5']) {
      assert.ok(allowed(ip), ip);
    }
    for (const ip of ['128.0.0.1', '192.0.2.8', '::ffff:10.0.0.1', '::2', '2001:db9::1', 'localhost', '', undefined]) {
      assert.ok(!allowed(ip), String(ip));
    }
    assert.ok(!ipAllowList([])('127.0.0.1'));
  });

  it('names an entry that is not an address or range', () => {
    for (const entry of ['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
      assert.throws(() => ipAllowList([entry]), new RegExp(`metrics\\.allow: "${entry.replace(/[.*/]/g, '\\$&')}"`));
    }
  });
});
