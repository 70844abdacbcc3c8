import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const RP_SECRET = 'e2e-relying-party-secret-0123456789abcdef';
const ALICE = {
  username: 'alice',
  password: 'alice-e2e-password',
  email: 'alice@example.org',
  name: 'Alice Liddell',
  groups: ['staff', 'ops'],
};
/** Never approves anything, so the consent screen always shows for her. */
const BOB = { username: 'bob', password: 'bob-e2e-password-1', email: 'bob@example.org' };

/**
 * Journeys through the real SPA in Chromium, with a relying party built on openid-client:
 * sign-in, consent, SSO, denial, wrong password, unregistered redirect_uri, sign-out.
 */
describe('signing in to an application through Gatehouse', () => {
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let browser: Browser;
  let screens: Screens;

  before(async () => {
    const rpPort = await freePort();
    gatehouse = await startGatehouse({
      clients: [
        {
          client_id: 'testapp',
          client_secret: RP_SECRET,
          name: 'Test App',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          post_logout_redirect_uris: [`http://127.0.0.1:${rpPort}/bye`],
          consent: 'explicit',
        },
      ],
      users: [ALICE, BOB],
    });
    rp = await startRelyingParty(gatehouse.issuer, 'testapp', RP_SECRET, rpPort);
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await gatehouse?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page, password = ALICE.password, username = ALICE.username) {
    await page.getByLabel('Username or email').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('authorizes a new application while signed out, then skips both screens on the next visit', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await assert.doesNotReject(page.getByRole('heading', { name: 'Sign in to Test App' }).waitFor());
    await screenshot(page, '01-sign-in');

    await signIn(page);
    await page.waitForURL(/\/consent\?interaction=/);
    await page.getByRole('heading', { name: /Test App wants to use your Gatehouse account/ }).waitFor();
    for (const text of ['See your email address', 'See which groups you belong to', 'See your name and username']) {
      assert.ok(await page.getByText(text).isVisible(), text);
    }
    await screenshot(page, '02-consent');

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), ALICE.email);
    assert.equal(await page.locator('#groups').textContent(), JSON.stringify(['ops', 'staff']));
    const sub = await page.locator('#sub').textContent();
    assert.ok(sub && sub.length > 10);
    await screenshot(page, '03-back-at-the-app');

    const visited: string[] = [];
    page.on('framenavigated', (frame) => visited.push(frame.url()));
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#sub').textContent(), sub);
    assert.ok(!visited.some((u) => u.startsWith(gatehouse.issuer)), `no Gatehouse screen on the second visit: ${visited.join(', ')}`);
    await page.close();
  });

  it('sends access_denied to the application when the user denies', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page, BOB.password, BOB.username);
    await page.waitForURL(/\/consent\?interaction=/);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#error').textContent(), 'access_denied');
    await page.close();
  });

  it('shows a wrong password clearly, then signs in', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page, 'not-the-password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /username or password is not correct/);
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the wrong password is cleared');
    await screenshot(page, '04-wrong-password');
    await signIn(page);
    await page.waitForURL(/\/consent\?interaction=|\/cb/);
    await page.close();
  });

  it('shows the error screen for an unregistered redirect_uri and never redirects', async () => {
    const { page } = await screens.fresh();
    const target = new URL('/oauth2/authorize', gatehouse.issuer);
    target.search = new URLSearchParams({
      client_id: 'testapp',
      redirect_uri: 'https://attacker.example/cb',
      response_type: 'code',
      scope: 'openid',
      state: 's',
    }).toString();
    const redirects: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest() && r.redirectedFrom()) redirects.push(r.url());
    });
    const response = await page.goto(target.href);
    assert.equal(response?.status(), 400);
    assert.deepEqual(redirects, []);
    assert.equal(new URL(page.url()).host, new URL(gatehouse.issuer).host);
    await page.getByRole('heading', { name: 'This sign-in request cannot continue' }).waitFor();
    assert.ok(await page.getByText('The redirect_uri is not registered for this application.').isVisible());
    await screenshot(page, '05-unregistered-redirect-uri');
    await page.close();
  });

  it('explains an expired sign-in request', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${gatehouse.issuer}/login?interaction=no-such-request`);
    await page.getByRole('heading', { name: 'This sign-in request has expired' }).waitFor();
    await screenshot(page, '06-expired-request');
    await page.close();
  });

  it('explains an OAuth error on the error screen', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${gatehouse.issuer}/error?error=access_denied&error_description=The+user+denied+the+request.`);
    await page.getByRole('heading', { name: 'Access was not granted' }).waitFor();
    await screenshot(page, '07-error');
    await page.close();
  });

  it('signs out: the session ends and the application asks for a sign-in again', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page);
    await page.waitForURL(/\/consent\?interaction=|\/cb/);
    if (page.url().includes('/consent')) {
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${rp.url}/cb**`);
    }
    await page.goto(gatehouse.issuer);
    await page.getByRole('heading', { name: `Signed in as ${ALICE.name}` }).waitFor();
    await screenshot(page, '08-signed-in-home');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gatehouse.issuer}/signed-out`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await screenshot(page, '09-signed-out');

    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByRole('heading', { name: 'Sign in to Test App' }).waitFor();
    await page.close();
  });

  it('works with the keyboard alone', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByLabel('Username or email').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'username', 'focus starts in the username field');
    await page.keyboard.type(ALICE.username);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type(ALICE.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/consent\?interaction=|\/cb/);
    if (page.url().includes('/consent')) {
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Allow', 'focus is on Allow');
      await page.keyboard.press('Enter');
    }
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), ALICE.email);
    await page.close();
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const { page } = await screens.fresh({ width: 360, height: 740 });
    await page.goto(`${rp.url}/login`);
    await page.getByRole('heading', { name: 'Sign in to Test App' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await screenshot(page, '10-sign-in-phone');
    await page.close();
  });

  it('signs out when the application asks: at once with its ID token, after a question without one', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page);
    await page.waitForURL(/\/consent\?interaction=|\/cb/);
    if (page.url().includes('/consent')) await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.url}/cb**`);

    await page.goto(`${rp.url}/logout`);
    await page.waitForURL(`${rp.url}/bye**`);
    assert.equal(await page.locator('#state').textContent(), 'bye-state');
    await page.goto(gatehouse.issuer);
    await page.getByRole('heading', { name: 'Welcome to Gatehouse' }).waitFor();

    await page.goto(`${rp.url}/login`);
    await signIn(page);
    await page.waitForURL(`${rp.url}/cb**`);
    const bare = new URL('/oauth2/end_session', gatehouse.issuer);
    bare.search = new URLSearchParams({ client_id: 'testapp', post_logout_redirect_uri: `${rp.url}/bye`, state: 'asked' }).toString();
    await page.goto(bare.href);
    await page.getByRole('heading', { name: 'Sign out of Gatehouse?' }).waitFor();
    await screenshot(page, '30-logout-confirm');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${rp.url}/bye**`);
    assert.equal(await page.locator('#state').textContent(), 'asked');
    await page.close();
  });
});
