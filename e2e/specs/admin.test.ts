import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Authenticator } from '../src/authenticator.js';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const RP_SECRET = 'e2e-wiki-relying-party-secret-0123456789';
const ADMIN = { username: 'admin', password: 'e2e-admin-password' };
/** Invited into ops, which requires a second factor. */
const PAT = { username: 'pat', password: 'pat-e2e-password-1', email: 'pat@example.org', name: 'Pat Doe' };
/** Has an account but is in no group: the wiki is not for him. */
const OSCAR = { username: 'oscar', password: 'oscar-e2e-password', email: 'oscar@example.org', name: 'Oscar Wilde' };

/**
 * Administration in Chromium: an admin creates a group that requires two-factor, invites
 * someone into it, the invitee enrols (password and TOTP) through the link and signs in to an
 * application only that group may use; someone outside the group is refused with a clear
 * screen and the application gets access_denied.
 */
describe('administration', () => {
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let browser: Browser;
  let screens: Screens;
  let admin: Page;

  before(async () => {
    const rpPort = await freePort();
    gatehouse = await startGatehouse({
      clients: [
        {
          client_id: 'wiki',
          client_secret: RP_SECRET,
          name: 'Team Wiki',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'implicit',
          allowed_groups: ['ops'],
        },
      ],
      users: [OSCAR],
    });
    rp = await startRelyingParty(gatehouse.issuer, 'wiki', RP_SECRET, rpPort);
    browser = await launchChromium();
    screens = new Screens(browser);
    admin = (await screens.fresh()).page;
    await admin.goto(`${gatehouse.issuer}/login`);
    await signIn(admin, ADMIN);
    await admin.waitForURL(`${gatehouse.issuer}/`);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await gatehouse?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page, user: { username: string; password: string }) {
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('invites a user into a group; they enrol with TOTP and sign in to the application restricted to it', async () => {
    await admin.getByRole('link', { name: 'Administration' }).click();
    await admin.waitForURL(`${gatehouse.issuer}/admin`);

    await admin.getByRole('navigation').getByRole('link', { name: 'Groups' }).click();
    await admin.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    await admin.getByRole('button', { name: 'New group' }).click();
    await admin.getByLabel('Name', { exact: true }).fill('ops');
    await admin.getByLabel('Members must sign in with two-factor').check();
    await admin.getByRole('button', { name: 'Create group' }).click();
    const row = admin.getByTestId('group-row').filter({ hasText: 'ops' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Required/);
    await screenshot(admin, '60-admin-group-created');

    await admin.getByRole('navigation').getByRole('link', { name: 'Invitations' }).click();
    await admin.getByRole('heading', { name: 'Invitations', level: 1 }).waitFor();
    await admin.getByLabel('Email').fill(PAT.email);
    await admin.getByRole('group', { name: 'Groups' }).getByLabel('ops').check();
    await admin.getByRole('button', { name: 'Create invitation' }).click();
    const link = ((await admin.getByTestId('invitation-url').textContent()) ?? '').trim();
    assert.match(link, new RegExp(`^${gatehouse.issuer}/join#[A-Za-z0-9_-]{43}$`));
    await screenshot(admin, '61-admin-invitation-created');

    const { page } = await screens.fresh();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
    assert.equal(await page.getByTestId('invitation-email').textContent(), PAT.email);
    await page.getByLabel('Username').fill(PAT.username);
    await page.getByLabel('Full name').fill(PAT.name);
    await page.getByLabel('Password', { exact: true }).fill(PAT.password);
    await page.getByLabel('Confirm password').fill(PAT.password);
    const authenticator = new Authenticator(((await page.getByTestId('totp-secret').textContent()) ?? '').trim());
    await page.getByLabel('Code').fill(await authenticator.code());
    await screenshot(page, '62-join');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Your account is ready' }).waitFor();
    assert.equal((await page.getByTestId('recovery-code').allTextContents()).length, 10, 'recovery codes are shown once');
    await screenshot(page, '63-joined');

    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await signIn(page, PAT);
    await page.getByLabel('Authentication code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), PAT.email);
    assert.deepEqual(JSON.parse((await page.locator('#groups').textContent()) ?? '[]'), ['ops']);

    await page.goto(link);
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor();
    await page.close();
  });

  it('marks a username the API refuses as taken and moves focus to that field', async () => {
    await admin.goto(`${gatehouse.issuer}/admin/users`);
    await admin.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await admin.getByRole('button', { name: 'New user' }).click();
    await admin.getByLabel('Username').fill(OSCAR.username);
    await admin.getByRole('button', { name: 'Create user' }).click();
    const username = admin.locator('#new-username');
    await admin.waitForFunction(() => document.activeElement?.id === 'new-username');
    assert.equal(await username.getAttribute('aria-invalid'), 'true');
    assert.equal(await username.isEnabled(), true);
    await admin.getByRole('button', { name: 'Cancel' }).click();
  });

  it('refuses a user outside the group with a clear screen, and the application gets access_denied', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page, OSCAR);
    await page.waitForURL(/\/denied\?interaction=/);
    await page.getByRole('heading', { name: 'No access to Team Wiki' }).waitFor();
    assert.ok(await page.getByText('Your account is not allowed to use Team Wiki. Ask an administrator for access.').isVisible());
    await screenshot(page, '64-denied');
    await page.getByRole('button', { name: 'Return to Team Wiki' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#error').textContent(), 'access_denied');
    await page.close();

    await admin.goto(`${gatehouse.issuer}/admin/audit?event=authorize_denied`);
    const denial = admin.getByRole('row').filter({ hasText: 'authorize_denied' });
    await denial.first().waitFor();
    assert.equal(await denial.count(), 1, 'one audit event for the denial');
    assert.match((await denial.textContent()) ?? '', /oscar/);
    await screenshot(admin, '65-admin-audit-denial');
  });
});
