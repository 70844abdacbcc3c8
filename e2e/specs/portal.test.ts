import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const RP_SECRET = 'portal-e2e-relying-party-secret-0123456789';
const CAROL = { username: 'carol', password: 'carol-e2e-password', email: 'carol@example.org', name: 'Carol Danvers' };

/**
 * The account portal in Chromium: a personal API token created and revoked in the browser and
 * used from outside it, and the sessions, connected apps and profile screens.
 */
describe('the account portal', () => {
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let browser: Browser;
  let screens: Screens;

  before(async () => {
    const rpPort = await freePort();
    gatehouse = await startGatehouse({
      clients: [
        {
          client_id: 'notes',
          client_secret: RP_SECRET,
          name: 'Notes',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'explicit',
        },
      ],
      users: [CAROL],
    });
    rp = await startRelyingParty(gatehouse.issuer, 'notes', RP_SECRET, rpPort);
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await gatehouse?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page) {
    await page.goto(`${gatehouse.issuer}/login`);
    await page.getByLabel('Username or email').fill(CAROL.username);
    await page.getByLabel('Password').fill(CAROL.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gatehouse.issuer}/`);
  }

  const listTokens = (token: string) =>
    fetch(`${gatehouse.issuer}/api/v1/me/tokens`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });

  it('creates an API token shown once, which works until it is revoked', async () => {
    const { page } = await screens.fresh({ width: 360, height: 740 });
    await signIn(page);
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.waitForURL(`${gatehouse.issuer}/tokens`);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();

    await page.getByLabel('Name').fill('backup script');
    await page.getByLabel('Create and revoke your API tokens').check();
    await page.getByLabel('Expires after (days)').fill('7');
    await page.getByRole('button', { name: 'Create token' }).click();

    const shown = page.getByTestId('new-token');
    await shown.waitFor();
    const token = (await shown.textContent())?.trim() ?? '';
    assert.match(token, /^gh_/);
    assert.ok(await page.getByText('you will not see it again').isVisible());
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Copy your new token', 'focus moves to the new token');
    await screenshot(page, '40-api-token-created');

    const ok = await listTokens(token);
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { tokens: { name: string }[] };
    assert.deepEqual(
      body.tokens.map((t) => t.name),
      ['backup script'],
    );

    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.getByTestId('new-token').count(), 0, 'the token is shown only once');

    await page.getByRole('button', { name: 'Revoke backup script' }).click();
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('Revoked “backup script”').waitFor();
    assert.equal(await page.getByTestId('token').count(), 0);
    await screenshot(page, '41-api-token-revoked');

    assert.equal((await listTokens(token)).status, 401);
    await page.close();
  });

  it('shows sessions, connected apps and the profile', async () => {
    const { page } = await screens.fresh();
    await signIn(page);

    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor();
    assert.ok(await page.getByText('This browser').isVisible());
    await screenshot(page, '42-sessions');

    await page.goto(`${gatehouse.issuer}/apps`);
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
    await page.getByText('You have not approved any applications.').waitFor();

    await page.goto(`${gatehouse.issuer}/profile`);
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), CAROL.email);
    await page.getByLabel('Nickname').fill('Captain');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved your profile.').waitFor();
    await screenshot(page, '43-profile');
    await page.close();
  });

  it('revokes a connected app: the app can no longer refresh its tokens', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login?scope=${encodeURIComponent('openid email offline_access')}`);
    await page.getByLabel('Username or email').fill(CAROL.username);
    await page.getByLabel('Password').fill(CAROL.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    await page.goto(`${rp.url}/refresh`);
    assert.equal(await page.locator('#refresh').textContent(), 'refreshed', 'the app can refresh before the revocation');

    await page.goto(`${gatehouse.issuer}/apps`);
    await page.getByText('Notes', { exact: true }).first().waitFor();
    await screenshot(page, '44-connected-apps');
    await page.getByRole('button', { name: 'Revoke access for Notes' }).click();
    await page.getByRole('button', { name: 'Revoke access', exact: true }).click();
    await page.getByText('Notes can no longer use your account.', { exact: false }).waitFor();

    await page.goto(`${rp.url}/refresh`);
    assert.equal(await page.locator('#refresh').textContent(), 'invalid_grant');
    await page.close();
  });
});
