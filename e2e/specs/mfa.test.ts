import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Authenticator } from '../src/authenticator.js';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';

const RP_SECRET = 'e2e-relying-party-secret-0123456789abcdef';
const STRICT_SECRET = 'e2e-strict-party-secret-0123456789abcdef';

type User = { username: string; password: string; email: string; name: string };
/** Sets up TOTP on the security page, then signs in with it, a recovery code and a wrong code. */
const ALICE: User = { username: 'alice', password: 'alice-e2e-password', email: 'alice@example.org', name: 'Alice Liddell' };
/** Has no second factor when the application that requires one sends her to enrol. */
const DAVE: User = { username: 'dave', password: 'dave-e2e-password-1', email: 'dave@example.org', name: 'Dave Bowman' };
/** Enters wrong codes until the password is needed again. */
const CAROL: User = { username: 'carol', password: 'carol-e2e-password', email: 'carol@example.org', name: 'Carol Danvers' };
/** Signs in to the portal with a recovery code and replaces her recovery codes. */
const ERIN: User = { username: 'erin', password: 'erin-e2e-password-1', email: 'erin@example.org', name: 'Erin Brockovich' };
/** Turns two-factor authentication off. */
const FRANK: User = { username: 'frank', password: 'frank-e2e-password', email: 'frank@example.org', name: 'Frank Poole' };
/** Sets up TOTP where every change to it asks for the password again. */
const GRACE: User = { username: 'grace', password: 'grace-e2e-password', email: 'grace@example.org', name: 'Grace Hopper' };

/**
 * Journeys with two-factor authentication through the real SPA in Chromium: setting up TOTP on
 * the security page, signing in to an application with a TOTP code or a recovery code, wrong
 * codes, enrolling when an application requires it, and managing it on the security page.
 */
describe('two-factor authentication', () => {
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let strict: RelyingParty;
  let browser: Browser;
  let screens: Screens;
  /** Alice's authenticator and recovery codes, from the first journey. */
  let alice: { authenticator: Authenticator; recoveryCodes: string[] } | undefined;

  before(async () => {
    const [rpPort, strictPort] = [await freePort(), await freePort()];
    gatehouse = await startGatehouse({
      clients: [
        {
          client_id: 'testapp',
          client_secret: RP_SECRET,
          name: 'Test App',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'implicit',
        },
        {
          client_id: 'strictapp',
          client_secret: STRICT_SECRET,
          name: 'Strict App',
          redirect_uris: [`http://127.0.0.1:${strictPort}/cb`],
          consent: 'implicit',
          require_mfa: true,
        },
      ],
      users: [ALICE, DAVE, CAROL, ERIN, FRANK],
      // These journeys make more sign-in attempts from one address than the default per-minute
      // limit allows; the limit itself is not what they test.
      env: { GATEHOUSE_RATE_LIMIT_LOGIN: '500' },
    });
    rp = await startRelyingParty(gatehouse.issuer, 'testapp', RP_SECRET, rpPort);
    strict = await startRelyingParty(gatehouse.issuer, 'strictapp', STRICT_SECRET, strictPort);
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await strict?.stop();
    await gatehouse?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  async function signIn(page: Page, user: User, password = user.password) {
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Submits a code on the two-step verification screen and waits for the API's answer. */
  async function submitCode(page: Page, code: string) {
    await page.getByLabel('Authentication code').fill(code);
    const answered = page.waitForResponse((r) => r.url().endsWith('/mfa') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Verify' }).click();
    return answered;
  }

  async function overflowOf(page: Page): Promise<number> {
    return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  }

  /** On the enrolment screen: reads the manual key, confirms with a code, answers the recovery codes shown. */
  async function confirmEnrolment(page: Page, shot?: { setUp: string; codes: string }) {
    const secretElement = page.getByTestId('totp-secret');
    await secretElement.waitFor();
    const secret = ((await secretElement.textContent()) ?? '').trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/, 'the manual key is plain base32');
    const qr = page.getByRole('img', { name: /QR code/ });
    assert.ok(await qr.isVisible(), 'the QR code is shown');
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    // decode() rejects when the image cannot load (e.g. blocked by the CSP).
    await qr.evaluate((img: HTMLImageElement) => img.decode());
    const codeField = page.getByLabel('Code from your app');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'enrol-code', 'focus is in the code field');
    if (shot) await screenshot(page, shot.setUp);

    const authenticator = new Authenticator(secret);
    await codeField.fill(await authenticator.code());
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.ok(await page.getByText('Save these codes now.').isVisible());
    const recoveryCodes = (await page.getByTestId('recovery-code').allTextContents()).map((c) => c.trim());
    assert.equal(recoveryCodes.length, 10);
    for (const c of recoveryCodes) assert.match(c, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    assert.equal(new Set(recoveryCodes).size, 10);
    if (shot) await screenshot(page, shot.codes);
    return { authenticator, recoveryCodes };
  }

  /** Portal sign-in with a password (no second factor yet), then TOTP set up on the security page. */
  async function enrolFromSecurityPage(page: Page, user: User, shots?: { page: string; setUp: string; codes: string }) {
    await page.goto(`${gatehouse.issuer}/login`);
    await signIn(page, user);
    await page.waitForURL(`${gatehouse.issuer}/`);
    await page.getByRole('link', { name: 'Security settings' }).click();
    await page.waitForURL(`${gatehouse.issuer}/security`);
    await page.getByRole('heading', { name: 'Security' }).waitFor();
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'Off');
    if (shots) await screenshot(page, shots.page);
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const enrolled = await confirmEnrolment(page, shots);
    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    await page.getByText('Two-factor authentication is on.').waitFor();
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'On');
    assert.equal(await page.getByTestId('recovery-codes-left').textContent(), '10 of 10');
    return enrolled;
  }

  async function signOut(page: Page) {
    await page.goto(gatehouse.issuer);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gatehouse.issuer}/signed-out`);
  }

  it('sets up TOTP on the security page, then signs in to an application with password and code', async () => {
    const { page } = await screens.fresh();
    alice = await enrolFromSecurityPage(page, ALICE, { page: '12-security-page', setUp: '13-security-set-up', codes: '14-recovery-codes' });
    await signOut(page);

    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await signIn(page, ALICE);
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    assert.ok(await page.getByText('To continue to Test App, confirm it is you.').isVisible());
    const field = page.getByLabel('Authentication code');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code', 'focus starts in the code field');
    assert.equal(await field.getAttribute('inputmode'), 'numeric');
    assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
    await screenshot(page, '15-mfa-challenge');

    // The code used to confirm the set-up is spent: this takes the next step's code.
    await field.fill(await alice.authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), ALICE.email);
    await page.close();
  });

  it('signs in to an application with a recovery code, each code once', async () => {
    assert.ok(alice, 'the set-up journey ran first');
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page, ALICE);
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    const field = page.getByLabel('Recovery code');
    await field.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'recovery-code', 'focus moves to the recovery code field');
    await screenshot(page, '16-mfa-recovery-code');
    await field.fill(alice.recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), ALICE.email);
    await page.close();

    // A used code is refused; another one works, typed in lower case without dashes.
    const again = (await screens.fresh()).page;
    await again.goto(`${rp.url}/login`);
    await signIn(again, ALICE);
    await again.waitForURL(/\/mfa\?interaction=/);
    await again.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await again.getByLabel('Recovery code').fill(alice.recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Verify' }).click();
    const alert = again.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /not correct/);
    assert.match(again.url(), /\/mfa\?interaction=/);
    await again.getByLabel('Recovery code').fill(alice.recoveryCodes[1]!.replaceAll('-', '').toLowerCase());
    await again.getByRole('button', { name: 'Verify' }).click();
    await again.waitForURL(`${rp.url}/cb**`);
    assert.equal(await again.locator('#email').textContent(), ALICE.email);
    await again.close();
  });

  it('shows a wrong code clearly and stays on the two-step verification screen, with the keyboard alone', async () => {
    assert.ok(alice, 'the set-up journey ran first');
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await signIn(page, ALICE);
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByLabel('Authentication code').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code');

    // Not six digits: explained without asking the server.
    await page.keyboard.type('12345');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /6-digit code/);

    await page.getByLabel('Authentication code').fill('');
    await page.getByLabel('Authentication code').focus();
    await page.keyboard.type(await alice.authenticator.wrongCode());
    const answered = page.waitForResponse((r) => r.url().endsWith('/mfa') && r.request().method() === 'POST');
    await page.keyboard.press('Enter');
    assert.equal((await answered).status(), 401);
    await page.getByText('That code is not correct.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'alert', 'focus moves to the error');
    assert.match(page.url(), /\/mfa\?interaction=/);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    assert.equal(await page.getByLabel('Authentication code').inputValue(), '', 'the wrong code is cleared');
    assert.equal(await page.getByLabel('Authentication code').getAttribute('aria-invalid'), 'true');
    await screenshot(page, '17-mfa-wrong-code');
    await page.close();
  });

  it('leads a user without a second factor to set one up when the application requires it', async () => {
    const { page } = await screens.fresh({ width: 360, height: 740 });
    await page.goto(`${strict.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByRole('heading', { name: 'Sign in to Strict App' }).waitFor();
    await signIn(page, DAVE);
    await page.waitForURL(/\/enrol\?interaction=/);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    assert.ok(await page.getByText('Strict App requires two-factor authentication.').isVisible(), 'it says why');
    await page.getByTestId('totp-secret').waitFor();
    assert.ok((await overflowOf(page)) <= 0, 'the set-up fits a phone screen');

    const { recoveryCodes } = await confirmEnrolment(page, { setUp: '18-enrol', codes: '19-enrol-recovery-codes' });
    assert.equal(recoveryCodes.length, 10);
    assert.ok((await overflowOf(page)) <= 0, 'the recovery codes fit a phone screen');
    await page.getByRole('button', { name: 'Continue to Strict App' }).click();
    await page.waitForURL(`${strict.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), DAVE.email);

    // The application asked for a second factor, and the session now has one: no screens next time.
    const visited: string[] = [];
    page.on('framenavigated', (frame) => visited.push(frame.url()));
    await page.goto(`${strict.url}/login`);
    await page.waitForURL(`${strict.url}/cb**`);
    assert.ok(!visited.some((u) => u.startsWith(gatehouse.issuer)), `no Gatehouse screen on the second visit: ${visited.join(', ')}`);
    await page.close();
  });

  it('asks for the password again after too many wrong codes', async () => {
    const { page } = await screens.fresh();
    const { authenticator } = await enrolFromSecurityPage(page, CAROL);
    await signOut(page);

    await page.goto(`${rp.url}/login`);
    await signIn(page, CAROL);
    await page.waitForURL(/\/mfa\?interaction=/);
    const wrong = await authenticator.wrongCode();
    for (let attempt = 1; attempt < 5; attempt++) {
      const answer = await submitCode(page, wrong);
      assert.equal(answer.status(), 401);
      assert.match(page.url(), /\/mfa\?interaction=/);
    }
    await submitCode(page, wrong);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByText('Too many wrong codes. Sign in with your password again.').waitFor();
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await screenshot(page, '20-too-many-wrong-codes');

    await signIn(page, CAROL);
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByLabel('Authentication code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), CAROL.email);
    await page.close();
  });

  it('signs in to Gatehouse itself with a recovery code, then replaces the recovery codes, on a phone', async () => {
    const { page } = await screens.fresh({ width: 360, height: 740 });
    await page.goto(`${gatehouse.issuer}/security`);
    await page.waitForURL(`${gatehouse.issuer}/login`);

    const { authenticator, recoveryCodes } = await enrolFromSecurityPage(page, ERIN);
    await signOut(page);
    await page.goto(`${gatehouse.issuer}/login`);
    await signIn(page, ERIN);
    await page.waitForURL(`${gatehouse.issuer}/mfa`);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    assert.ok(await page.getByText('To finish signing in to Gatehouse, confirm it is you.').isVisible());
    assert.ok((await overflowOf(page)) <= 0, 'the two-step verification screen fits a phone screen');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${gatehouse.issuer}/`);
    await page.getByRole('heading', { name: `Signed in as ${ERIN.name}` }).waitFor();

    await page.getByRole('link', { name: 'Security settings' }).click();
    await page.waitForURL(`${gatehouse.issuer}/security`);
    await page.getByTestId('recovery-codes-left').waitFor();
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'On');
    assert.equal(await page.getByTestId('recovery-codes-left').textContent(), '9 of 10');
    assert.ok((await overflowOf(page)) <= 0, 'the security page fits a phone screen');
    await screenshot(page, '21-security-page-on');

    await page.getByRole('button', { name: 'New recovery codes' }).click();
    await page.getByRole('heading', { name: 'Create new recovery codes' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'regenerate-password', 'focus is in the password field');
    await page.getByLabel('Your password').fill('not-the-password');
    await page.getByLabel('Code from your authenticator app').fill('123456');
    await page.getByRole('button', { name: 'Create new codes' }).click();
    await page.getByText('The password is not correct.').waitFor();
    assert.equal(await page.getByLabel('Your password').inputValue(), '', 'the wrong password is cleared');

    await page.getByLabel('Your password').fill(ERIN.password);
    await page.getByLabel('Code from your authenticator app').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Create new codes' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const fresher = (await page.getByTestId('recovery-code').allTextContents()).map((c) => c.trim());
    assert.equal(fresher.length, 10);
    assert.ok(!fresher.some((c) => recoveryCodes.includes(c)), 'all new codes');
    assert.ok((await overflowOf(page)) <= 0, 'the new codes fit a phone screen');
    await page.getByRole('button', { name: 'Copy codes' }).click();
    await page.getByText(/Copied the codes|did not allow copying/).waitFor();
    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    await page.getByText('Your new recovery codes are ready').waitFor();
    assert.equal(await page.getByTestId('recovery-codes-left').textContent(), '10 of 10');
    await page.close();
  });

  it('asks for the password in place, once, before setting up TOTP when a recent sign-in is not enough', async () => {
    // A Gatehouse whose re-authentication window is 0: every change to a second factor needs the
    // password, except confirming the set-up it started.
    const strictest = await startGatehouse({ clients: [], users: [GRACE], env: { GATEHOUSE_REAUTH_WINDOW: '0' } });
    const { page } = await screens.fresh();
    try {
      await page.goto(`${strictest.issuer}/login`);
      await signIn(page, GRACE);
      await page.waitForURL(`${strictest.issuer}/`);
      await page.goto(`${strictest.issuer}/security`);
      await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();

      const password = page.getByLabel('Your password');
      await password.waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'enrol-password', 'focus is in the password field');
      assert.equal(await page.getByTestId('totp-secret').count(), 0, 'no secret before the password');
      await password.fill('not-the-password');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByText('The password is not correct.').waitFor();
      assert.equal(await password.inputValue(), '', 'the wrong password is cleared');
      await password.fill(GRACE.password);
      await page.getByRole('button', { name: 'Continue' }).click();

      const secretElement = page.getByTestId('totp-secret');
      await secretElement.waitFor();
      const authenticator = new Authenticator(((await secretElement.textContent()) ?? '').trim());
      await page.getByLabel('Code from your app').fill(await authenticator.code());
      await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      assert.equal(await password.count(), 0, 'confirming asks for no password');
      await page.getByRole('button', { name: 'I have saved my codes' }).click();
      await page.getByText('Two-factor authentication is on.').waitFor();
      assert.equal(await page.getByTestId('mfa-status').textContent(), 'On');
    } finally {
      await page.close();
      await strictest.stop();
    }
  });

  it('turns two-factor authentication off after a confirmation', async () => {
    const { page } = await screens.fresh();
    const { authenticator } = await enrolFromSecurityPage(page, FRANK);

    await page.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('heading', { name: 'Turn off two-factor authentication?' }).waitFor();
    await screenshot(page, '22-security-turn-off');
    await page.getByRole('button', { name: 'Keep it on' }).click();
    // Focus moves once the overview has reloaded the status, which may be after the button shows.
    await assert.doesNotReject(
      page.waitForFunction(() => document.activeElement?.textContent === 'Turn off', undefined, { timeout: 5000 }),
      'focus returns to the button',
    );
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'On');

    await page.getByRole('button', { name: 'Turn off' }).click();
    await page.getByLabel('Your password').fill(FRANK.password);
    await page.getByLabel('Code from your authenticator app').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await page.getByText('Two-factor authentication is off.').waitFor();
    assert.equal(await page.getByTestId('mfa-status').textContent(), 'Off');
    await signOut(page);

    // The password alone signs in again.
    await page.goto(`${rp.url}/login`);
    await signIn(page, FRANK);
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await page.locator('#email').textContent(), FRANK.email);
    await page.close();
  });
});
