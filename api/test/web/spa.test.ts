import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { harness, type Harness } from '../helpers/harness.js';

const POLICY = "default-src 'none'; script-src 'self' 'sha256-abc='; style-src 'self'";
const SHELL = `<!doctype html><html><head><title>Gatehouse</title><meta http-equiv="content-security-policy" content="${POLICY}"></head><body><script>boot()</script></body></html>`;

describe('serving the SPA', () => {
  let h: Harness;
  let webDir: string;
  before(async () => {
    webDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-web-'));
    mkdirSync(path.join(webDir, '_app', 'immutable', 'entry'), { recursive: true });
    writeFileSync(path.join(webDir, 'index.html'), SHELL);
    writeFileSync(path.join(webDir, '_app', 'immutable', 'entry', 'start.js'), 'export {}');
    writeFileSync(path.join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    h = await harness({ webDir });
  });
  after(async () => {
    await h.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('serves the app shell for SPA routes, revalidated, under the CSP the build wrote, as a header that also forbids framing', async () => {
    for (const route of ['/', '/login?interaction=abc', '/consent', '/some/deep/route']) {
      const res = await request(h.app).get(route).expect(200).expect('content-type', /html/);
      assert.equal(res.text, SHELL);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['content-security-policy'], `${POLICY}; frame-ancestors 'none'`);
    }
  });

  it('caches hashed assets for a year as immutable', async () => {
    const res = await request(h.app).get('/_app/immutable/entry/start.js').expect(200);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  it('answers a missing hashed asset with 404, not the shell', async () => {
    const res = await request(h.app).get('/_app/immutable/entry/gone.js').expect(404);
    assert.notEqual(res.text, SHELL);
  });

  it('revalidates other static files', async () => {
    const res = await request(h.app).get('/favicon.svg').expect(200);
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  it('never falls back to the shell for API or protocol paths', async () => {
    for (const route of ['/api/v1/nope', '/oauth2/nope', '/.well-known/nope', '/healthz/x', '/metrics/x']) {
      const res = await request(h.app).get(route);
      assert.equal(res.status, 404, route);
      assert.notEqual(res.text, SHELL, route);
    }
    const api = await request(h.app).get('/api/v1/nope').expect(404);
    assert.equal(api.body.error.code, 'not_found');
  });

  it('falls back only for GET', async () => {
    await request(h.app).post('/login').expect(404);
  });

  it('says the web interface is not built when there is no build', async () => {
    const bare = await harness({ webDir: path.join(webDir, 'missing') });
    try {
      const res = await request(bare.app).get('/login').expect(503);
      assert.match(res.text, /not built/);
      await request(bare.app).get('/oauth2/nope').expect(404);
    } finally {
      await bare.close();
    }
  });
});
