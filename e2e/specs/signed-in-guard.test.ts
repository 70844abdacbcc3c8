import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';

const ADMIN = { username: 'admin', password: 'e2e-admin-password' };
const CAROL = { username: 'carol', password: 'carol-guard-e2e-password', email: 'carol@example.org', name: 'Carol Danvers' };

/** Every screen of the (signed-in) route group, admin screens included. */
const SIGNED_IN_PATHS = [
  '/profile',
  '/security',
  '/sessions',
  '/apps',
  '/tokens',
  '/kubeconfig',
  '/openbao-token',
  '/admin',
  '/admin/users',
  '/admin/user?id=carol',
  '/admin/groups',
  '/admin/group?id=ops',
  '/admin/clients',
  '/admin/client?id=notes',
  '/admin/invitations',
  '/admin/audit',
];

/**
 * The signed-in guard in Chromium: the (signed-in) layout sends anonymous visitors to sign in
 * before any screen asks the API for their data, and the admin layout shows non-admins a card
 * instead of the admin screens, which then never fetch admin data.
 */
describe('the signed-in guard', () => {
  let gatehouse: Gatehouse;
  let browser: Browser;
  let screens: Screens;

  before(async () => {
    gatehouse = await startGatehouse({ clients: [], users: [CAROL] });
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page, user: { username: string; password: string }) {
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gatehouse.issuer}/`);
  }

  /** Paths of the API calls a page makes, as they start. */
  function apiCalls(page: Page): string[] {
    const calls: string[] = [];
    page.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/api/')) calls.push(pathname);
    });
    return calls;
  }

  /** `/api/v1/admin/*` answers that handed out data (2xx), as `status path`. */
  function adminSuccesses(page: Page): string[] {
    const successes: string[] = [];
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (pathname.startsWith('/api/v1/admin/') && response.ok()) successes.push(`${response.status()} ${pathname}`);
    });
    return successes;
  }

  it('sends an anonymous visitor of every signed-in screen to sign in, in place of that screen, before it loads any data', async () => {
    const { page } = await screens.fresh();
    const calls = apiCalls(page);

    for (const path of SIGNED_IN_PATHS) {
      const entries = await page.evaluate(() => history.length);
      await page.goto(`${gatehouse.issuer}${path}`);
      await page.waitForURL(`${gatehouse.issuer}/login`);
      await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
      assert.ok(await page.getByLabel('Username or email').isVisible(), `${path}: the sign-in form is shown`);
      assert.ok(await page.getByRole('button', { name: 'Sign in' }).isVisible(), `${path}: the sign-in form is shown`);
      assert.equal(await page.evaluate(() => history.length), entries + 1, `${path}: sign-in replaces it in the history`);
    }
    await screenshot(page, '70-guard-anonymous-sent-to-sign-in');

    const screenData = calls.filter((p) => p.startsWith('/api/v1/me') || p.startsWith('/api/v1/admin'));
    assert.deepEqual(screenData, [], 'no signed-in screen asked the API for its data');
    assert.ok(calls.includes('/api/v1/session'), 'the guard asked for the session');
    await page.close();
  });

  it('lets a normal user who signs in where the guard sent them use the portal', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${gatehouse.issuer}/security`);
    await page.waitForURL(`${gatehouse.issuer}/login`);
    await signIn(page, CAROL);
    await page.getByRole('heading', { name: `Signed in as ${CAROL.name}` }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0, 'no way into administration');

    await page.getByRole('link', { name: 'Profile' }).click();
    await page.waitForURL(`${gatehouse.issuer}/profile`);
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), CAROL.email);

    await page.goto(`${gatehouse.issuer}/security`);
    await page.getByRole('heading', { name: 'Security' }).waitFor();
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'Off');
    assert.equal(new URL(page.url()).pathname, '/security', 'a signed-in user stays on the screen they opened');

    await page.goto(`${gatehouse.issuer}/sessions`);
    await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor();
    assert.ok(await page.getByText('This browser').isVisible());
    await page.close();
  });

  it('shows a signed-in non-admin the administrator-only card on admin screens, with no admin data fetched', async () => {
    const { page } = await screens.fresh();
    const successes = adminSuccesses(page);
    await page.goto(`${gatehouse.issuer}/login`);
    await signIn(page, CAROL);

    for (const path of ['/admin', '/admin/users']) {
      await page.goto(`${gatehouse.issuer}${path}`, { waitUntil: 'networkidle' });
      const card = page.getByTestId('not-admin');
      await card.getByRole('heading', { name: 'You need to be an administrator' }).waitFor();
      assert.match((await card.textContent()) ?? '', /You are signed in as carol, who cannot manage Gatehouse/);
      assert.equal(new URL(page.url()).pathname, path, `${path}: a signed-in non-admin is not sent to sign in`);
      assert.equal(await page.getByRole('navigation', { name: 'Administration' }).count(), 0, `${path}: no admin navigation`);
      assert.equal(await page.getByRole('heading', { name: 'Administration' }).count(), 0, `${path}: no admin overview`);
      assert.equal(await page.getByRole('heading', { name: 'Users' }).count(), 0, `${path}: no user list`);
      assert.equal(await page.getByTestId('user-row').count(), 0, `${path}: no users shown`);
      assert.equal(await page.getByTestId('user-count').count(), 0, `${path}: no user count shown`);
    }
    await screenshot(page, '71-guard-not-admin');

    await page.getByRole('link', { name: 'Back to your account' }).click();
    await page.getByRole('heading', { name: `Signed in as ${CAROL.name}` }).waitFor();
    assert.deepEqual(successes, [], 'the API handed no admin data to the non-admin');
    await page.close();
  });

  it('shows an admin the users list', async () => {
    const { page } = await screens.fresh();
    const successes = adminSuccesses(page);
    await page.goto(`${gatehouse.issuer}/admin/users`);
    await page.waitForURL(`${gatehouse.issuer}/login`);
    await signIn(page, ADMIN);

    await page.goto(`${gatehouse.issuer}/admin/users`);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const rows = page.getByTestId('user-row');
    await rows.filter({ hasText: CAROL.username }).waitFor();
    assert.deepEqual((await rows.locator('td[data-label="User"] a').allTextContents()).sort(), [ADMIN.username, CAROL.username]);
    assert.ok(await page.getByRole('navigation', { name: 'Administration' }).isVisible(), 'the admin navigation is shown');
    assert.equal(await page.getByTestId('not-admin').count(), 0, 'no administrator-only card for an admin');
    assert.ok(successes.includes('200 /api/v1/admin/users'), 'the users list came from the admin API');
    await screenshot(page, '72-guard-admin-users');
    await page.close();
  });
});
