import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
// OpenBao cannot be installed on these machines: this is the in-repo EMULATOR of the OpenBao
// HTTP endpoints Gatehouse calls (its header says what it covers), running on the real clock.
import { startOpenBaoEmulator, type OpenBaoEmulator } from '../../api/test/openbao/emulator.js';
import { Authenticator } from '../src/authenticator.js';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const RP_SECRET = 'e2e-relying-party-secret-0123456789abcdef';
const GRACE = { username: 'grace', password: 'grace-e2e-password', email: 'grace@example.org', name: 'Grace Hopper' };

/**
 * The browser journey on the OpenBao identity backend: the production build with
 * GATEHOUSE_IDENTITY_BACKEND=openbao in front of the OpenBao emulator, the real SPA in Chromium
 * and an openid-client relying party. OpenBao checks the password (userpass login) and the TOTP
 * code (login MFA validation); Gatehouse keeps the user's OpenBao token and gives it back at
 * sign-out.
 */
describe('signing in to an application with identity in OpenBao', () => {
  let bao: OpenBaoEmulator;
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let browser: Browser;
  let screens: Screens;
  let authenticator: Authenticator;
  let graceId: string;

  before(async () => {
    bao = await startOpenBaoEmulator({ clock: { now: () => Math.floor(Date.now() / 1000) }, enforceMfa: true });
    bao.addGroup('employees');
    bao.addGroup('staff', { parents: ['employees'] });
    graceId = bao.addUser(GRACE.username, GRACE.password, { name: GRACE.name, email: GRACE.email, groups: ['staff'] });
    authenticator = new Authenticator(bao.enrolTotp(GRACE.username));

    const rpPort = await freePort();
    gatehouse = await startGatehouse({
      clients: [
        {
          client_id: 'testapp',
          client_secret: RP_SECRET,
          name: 'Test App',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'explicit',
        },
      ],
      users: [],
      env: {
        GATEHOUSE_IDENTITY_BACKEND: 'openbao',
        GATEHOUSE_OPENBAO_ADDR: bao.url,
        GATEHOUSE_OPENBAO_TOKEN: bao.serviceToken,
        GATEHOUSE_OPENBAO_MFA_METHOD_ID: bao.mfaMethodId,
      },
    });
    rp = await startRelyingParty(gatehouse.issuer, 'testapp', RP_SECRET, rpPort);
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await gatehouse?.stop();
    await bao?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page) {
    // OpenBao userpass has no email lookup, and the form says so.
    await page.getByLabel('Username', { exact: true }).fill(GRACE.username);
    await page.getByLabel('Password').fill(GRACE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const liveLogins = () => bao.tokens.filter((t) => t.kind === 'login' && t.entityId === graceId && !t.revoked);

  it('signs in with the OpenBao password and TOTP code, refusing a wrong code, and approves the application', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await signIn(page);
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Use a recovery code instead' }).count(), 0, 'OpenBao has no recovery codes');

    await page.getByLabel('Authentication code').fill(await authenticator.wrongCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /not correct/);
    assert.match(page.url(), /\/mfa\?interaction=/);
    await screenshot(page, '40-openbao-wrong-code');

    await page.getByLabel('Authentication code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/consent\?interaction=/);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#sub').textContent(), graceId, 'sub is the OpenBao entity id');
    assert.equal(await page.locator('#email').textContent(), GRACE.email);
    assert.equal(await page.locator('#groups').textContent(), JSON.stringify(['employees', 'staff']));
    assert.equal(liveLogins().length, 1, 'one OpenBao token, held for the session');
    await page.close();
  });

  it('shows the profile from OpenBao read-only, and gives the OpenBao token back at sign-out', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${gatehouse.issuer}/login`);
    await signIn(page);
    await page.waitForURL(/\/mfa/);
    await page.getByLabel('Authentication code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${gatehouse.issuer}/`);
    // The profile lives in OpenBao's entity metadata: shown, not editable here.
    await page.goto(`${gatehouse.issuer}/profile`);
    await page.getByTestId('profile-details').waitFor();
    assert.match((await page.getByTestId('profile-details').textContent()) ?? '', new RegExp(GRACE.name));
    assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
    await screenshot(page, '41-openbao-profile');
    await page.goto(gatehouse.issuer);
    const before = liveLogins().length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gatehouse.issuer}/signed-out`);
    assert.equal(liveLogins().length, before - 1);
    await page.close();
  });
});
