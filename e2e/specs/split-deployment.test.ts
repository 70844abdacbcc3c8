import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { WEB_BUILD, startNginx, type Nginx } from '../src/nginx.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const SECRET = 'split-deployment-secret-0123456789abcdef';

/**
 * The split deployment of compose.yaml, with Debian's nginx serving web/build from the same
 * template and proxying the API paths to Gatehouse, whose public URL is nginx's.
 */
describe('the SPA served by nginx in front of the API', () => {
  let nginx: Nginx;
  let gatehouse: Gatehouse & { url: string };
  let rp: RelyingParty;
  let browser: Browser;

  before(async () => {
    const [nginxPort, rpPort] = [await freePort(), await freePort()];
    const publicUrl = `http://localhost:${nginxPort}`;
    gatehouse = await startGatehouse({
      issuer: publicUrl,
      env: { GATEHOUSE_TRUST_PROXY: 'loopback' },
      clients: [
        {
          client_id: 'proxied',
          client_secret: SECRET,
          name: 'Proxied App',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'implicit',
        },
      ],
      users: [{ username: 'carol', password: 'carol-e2e-password', email: 'carol@example.org', groups: ['ops'] }],
    });
    nginx = await startNginx(nginxPort, gatehouse.url);
    rp = await startRelyingParty(nginx.url, 'proxied', SECRET, rpPort);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await rp?.stop();
    await nginx?.stop();
    await gatehouse?.stop();
  });

  it('serves the app shell for SPA routes, revalidated, with a header that forbids framing', async () => {
    const res = await fetch(`${nginx.url}/login?interaction=x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'");
    assert.match(await res.text(), /http-equiv="content-security-policy"/);
  });

  it('caches hashed assets for a year and answers a missing one with 404', async () => {
    const entry = readdirSync(path.join(WEB_BUILD, '_app/immutable/entry'))[0]!;
    const res = await fetch(`${nginx.url}/_app/immutable/entry/${entry}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${nginx.url}/_app/immutable/entry/missing.js`)).status, 404);
  });

  it('passes API and protocol paths to Gatehouse and never answers them with the shell', async () => {
    const api = await fetch(`${nginx.url}/api/v1/nope`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'not_found');
    const discovery = (await (await fetch(`${nginx.url}/.well-known/openid-configuration`)).json()) as { issuer: string };
    assert.equal(discovery.issuer, nginx.url);
    assert.equal((await fetch(`${nginx.url}/oauth2/nope`)).status, 404);
  });

  it('signs a user in to an application through nginx', async () => {
    const context = await browser.newContext();
    const { page, problems } = await openPage(context);
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(`${nginx.url}/login?interaction=**`);
    await page.getByLabel('Username or email').fill('carol');
    await page.getByLabel('Password').fill('carol-e2e-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), 'carol@example.org');
    await screenshot(page, '11-through-nginx');
    await context.close();
    assert.deepEqual(problems, []);
  });
});
