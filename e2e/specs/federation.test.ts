import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Authenticator } from '../src/authenticator.js';
import { Screens, launchChromium, screenshot } from '../src/browser.js';
import { startGatehouse, type Gatehouse } from '../src/gatehouse.js';
import { freePort } from '../src/ports.js';
import { startRelyingParty, type RelyingParty } from '../src/relying-party.js';
import { startUpstreamProvider, type UpstreamProvider } from '../src/upstream-provider.js';

const RP_SECRET = 'e2e-relying-party-secret-0123456789abcdef';
const UPSTREAM_CLIENT = 'gatehouse';
const UPSTREAM_SECRET = 'e2e-upstream-client-secret-0123456789abcdef';
const ADMIN = { username: 'admin', password: 'e2e-admin-password' };
/** A Gatehouse user with a password and TOTP; her upstream account has the same username. */
const MIRA = { username: 'mira', password: 'mira-e2e-password-1', email: 'mira@example.org', name: 'Mira Nair' };

/** Three entries for the one upstream, each with its own rules. */
const CORP = { id: 'corp', name: 'Corp ID' };
const STRICT = { id: 'corp-strict', name: 'Corp ID with two-step' };
const PARTNERS = { id: 'partners', name: 'Partner ID' };

/**
 * Signing in with an upstream identity provider, in Chromium, with a real OpenID provider
 * nobody here wrote as the upstream (node-oidc-provider, its own login and consent pages):
 * just-in-time accounts, the link reused, idp_hint, a cancelled sign-in, require_mfa asking for
 * Gatehouse's TOTP code, provision by invitation only, and unlinking on the Security screen.
 */
describe('signing in with an upstream identity provider', () => {
  let upstream: UpstreamProvider;
  let gatehouse: Gatehouse;
  let rp: RelyingParty;
  let browser: Browser;
  let screens: Screens;
  /** Signed in (through the upstream) by the journeys that unlink at the end. */
  const signedIn: { sam?: Page; mira?: Page } = {};

  before(async () => {
    const [rpPort, gatehousePort] = [await freePort(), await freePort()];
    const issuer = `http://localhost:${gatehousePort}`;
    upstream = await startUpstreamProvider({
      clientId: UPSTREAM_CLIENT,
      clientSecret: UPSTREAM_SECRET,
      redirectUris: [CORP, STRICT, PARTNERS].map((u) => `${issuer}/oauth2/upstream/${u.id}/callback`),
    });
    const common = {
      type: 'oidc',
      issuer: upstream.issuer,
      client_id: UPSTREAM_CLIENT,
      client_secret: UPSTREAM_SECRET,
      scopes: 'openid email profile groups',
    };
    gatehouse = await startGatehouse({
      port: gatehousePort,
      clients: [
        {
          client_id: 'testapp',
          client_secret: RP_SECRET,
          name: 'Test App',
          redirect_uris: [`http://127.0.0.1:${rpPort}/cb`],
          consent: 'explicit',
        },
      ],
      users: [MIRA],
      env: {
        GATEHOUSE_UPSTREAMS: JSON.stringify([
          { ...CORP, ...common, provision: 'create' },
          { ...STRICT, ...common, link: 'username', provision: 'deny', require_mfa: true },
          { ...PARTNERS, ...common, provision: 'invitation' },
        ]),
      },
    });
    assert.equal(gatehouse.issuer, issuer);
    rp = await startRelyingParty(gatehouse.issuer, 'testapp', RP_SECRET, rpPort);
    browser = await launchChromium();
    screens = new Screens(browser);
  });

  after(async () => {
    await browser?.close();
    await rp?.stop();
    await gatehouse?.stop();
    await upstream?.stop();
    assert.deepEqual(screens.problems, [], 'no console errors or CSP violations on any screen');
  });

  /** On the upstream's own login page (any password), then its consent page. */
  async function signInUpstream(page: Page, login: string, shot?: string) {
    await page.waitForURL(`${upstream.issuer}/interaction/**`);
    await page.getByRole('heading', { name: 'Sign-in' }).waitFor();
    if (shot) await screenshot(page, shot);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any-upstream-password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('heading', { name: 'Authorize' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  /** Gatehouse's consent screen when it shows, then the application. */
  async function allowAndReturn(page: Page) {
    await page.waitForURL(new RegExp(`^(${gatehouse.issuer}/consent\\?interaction=|${rp.url}/cb)`));
    if (page.url().startsWith(`${gatehouse.issuer}/consent`)) {
      await page.getByRole('button', { name: 'Allow' }).click();
    }
    await page.waitForURL(`${rp.url}/cb**`);
  }

  const text = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent()) ?? '';

  /** A call to the REST API with the page's browser session, as the SPA makes it. */
  function api(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return page.evaluate(
      async ({ method, path, body }) => {
        // The header web/src/lib/api/client.ts sends (CSRF_HEADER in @gatehouse/shared).
        const headers: Record<string, string> = { accept: 'application/json', 'x-gatehouse-csrf': '1' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: res.status, body: res.status === 204 ? null : await res.json() };
      },
      { method, path, body },
    );
  }

  it('signs a new person in: upstream login, a new account, consent, the application; the next sign-in reuses the link', async () => {
    upstream.account('sam', {
      preferred_username: 'sam',
      name: 'Sam Carter',
      email: 'sam@corp.example',
      email_verified: true,
      groups: ['eng'],
    });
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login`);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByRole('heading', { name: 'Sign in to Test App' }).waitFor();
    const buttons = page.getByTestId('upstream-button');
    assert.deepEqual(
      await buttons.allTextContents(),
      [CORP, STRICT, PARTNERS].map((u) => `Continue with ${u.name}`),
    );
    await screenshot(page, '80-sign-in-with-upstream-buttons');
    await page.getByRole('link', { name: `Continue with ${CORP.name}`, exact: true }).click();

    await signInUpstream(page, 'sam', '81-upstream-login');
    await page.waitForURL(/\/consent\?interaction=/);
    await page.getByRole('heading', { name: /Test App wants to use your Gatehouse account/ }).waitFor();
    await screenshot(page, '82-consent-after-upstream');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await text(page, 'email'), 'sam@corp.example');
    assert.equal(await text(page, 'idp'), CORP.id);
    assert.ok((JSON.parse(await text(page, 'amr')) as string[]).includes('fed'), 'amr says federated');
    assert.ok(!(JSON.parse(await text(page, 'amr')) as string[]).includes('pwd'), 'no password was used');
    const sub = await text(page, 'sub');
    assert.ok(sub.length > 10);
    assert.notEqual(sub, 'sam', "the application sees Gatehouse's subject, not the upstream's");
    await page.close();

    // Another browser: idp_hint goes straight to the upstream; the link and the consent are reused.
    const again = (await screens.fresh()).page;
    const visited: string[] = [];
    again.on('framenavigated', (frame) => visited.push(frame.url()));
    await again.goto(`${rp.url}/login?idp_hint=${CORP.id}`);
    await signInUpstream(again, 'sam');
    await again.waitForURL(`${rp.url}/cb**`);
    assert.equal(await text(again, 'sub'), sub, 'the same account');
    assert.equal(await text(again, 'idp'), CORP.id);
    const screensShown = visited.filter((u) => u.startsWith(gatehouse.issuer) && !u.includes('/oauth2/'));
    assert.deepEqual(screensShown, [], 'no Gatehouse screen: neither the sign-in nor the consent');
    signedIn.sam = again;
  });

  it('ends at the application with access_denied when the person cancels at the upstream; an unknown idp_hint shows the sign-in screen', async () => {
    const { page } = await screens.fresh();
    await page.goto(`${rp.url}/login?idp_hint=${CORP.id}`);
    await page.waitForURL(`${upstream.issuer}/interaction/**`);
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
    await page.waitForURL(`${rp.url}/cb**`);
    assert.equal(await text(page, 'error'), 'access_denied');

    await page.goto(`${rp.url}/login?idp_hint=nowhere`);
    await page.waitForURL(/\/login\?interaction=/);
    await page.getByRole('heading', { name: 'Sign in to Test App' }).waitFor();
    await page.close();
  });

  it('asks for the TOTP code after the upstream when the upstream requires a second factor', async () => {
    const { page } = await screens.fresh();
    // Mira sets up TOTP with her password first.
    await page.goto(`${gatehouse.issuer}/login`);
    await page.getByLabel('Username or email').fill(MIRA.username);
    await page.getByLabel('Password').fill(MIRA.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gatehouse.issuer}/`);
    await page.goto(`${gatehouse.issuer}/security`);
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const secretElement = page.getByTestId('totp-secret');
    await secretElement.waitFor();
    const authenticator = new Authenticator(((await secretElement.textContent()) ?? '').trim());
    await page.getByLabel('Code from your app').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByRole('button', { name: 'I have saved my codes' }).click();
    await page.getByText('Two-factor authentication is on.').waitFor();
    await page.goto(`${gatehouse.issuer}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gatehouse.issuer}/signed-out`);

    upstream.account('mira', { preferred_username: 'mira', name: 'Mira N.', email: 'mira@corp.example', email_verified: true });
    await page.goto(`${rp.url}/login`);
    await page.getByRole('link', { name: `Continue with ${STRICT.name}`, exact: true }).click();
    await signInUpstream(page, 'mira');
    await page.waitForURL(/\/mfa\?interaction=/);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await screenshot(page, '83-mfa-after-upstream');
    await page.getByLabel('Authentication code').fill(await authenticator.code());
    await page.getByRole('button', { name: 'Verify' }).click();
    await allowAndReturn(page);
    assert.equal(await text(page, 'email'), MIRA.email, 'linked by username to her own account');
    assert.equal(await text(page, 'idp'), STRICT.id);
    const amr = JSON.parse(await text(page, 'amr')) as string[];
    assert.ok(amr.includes('fed') && amr.includes('otp'), `amr is ${JSON.stringify(amr)}`);
    signedIn.mira = page;
  });

  it('admits through an invitation only: a stranger is refused, the invited person lands in its groups', async () => {
    const admin = (await screens.fresh()).page;
    await admin.goto(`${gatehouse.issuer}/login`);
    await admin.getByLabel('Username or email').fill(ADMIN.username);
    await admin.getByLabel('Password').fill(ADMIN.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.waitForURL(`${gatehouse.issuer}/`);
    assert.equal((await api(admin, 'POST', '/api/v1/admin/groups', { name: 'partners' })).status, 201);
    const created = await api(admin, 'POST', '/api/v1/admin/invitations', { email: 'ivy@partner.example', groups: ['partners'] });
    assert.equal(created.status, 201);
    const token = new URL((created.body as { url: string }).url).hash.slice(1);
    assert.ok(token.length > 20);

    // Without an invitation: refused on Gatehouse's error page, and no account is made.
    const stranger = (await screens.fresh()).page;
    await stranger.goto(`${rp.url}/login`);
    await stranger.getByRole('link', { name: `Continue with ${PARTNERS.name}`, exact: true }).click();
    await signInUpstream(stranger, 'stranger');
    await stranger.waitForURL(`${gatehouse.issuer}/oauth2/upstream/${PARTNERS.id}/callback**`);
    await stranger.getByRole('heading', { name: 'Signing in did not work' }).waitFor();
    assert.ok(await stranger.getByText(`No account here belongs to this ${PARTNERS.name} sign-in.`, { exact: false }).isVisible());
    await screenshot(stranger, '84-upstream-stranger-refused');
    await stranger.close();

    // With it, from the invitation screen.
    upstream.account('ivy', { preferred_username: 'ivy', name: 'Ivy Lee', email: 'ivy@elsewhere.example', email_verified: false });
    const ivy = (await screens.fresh()).page;
    await ivy.goto(`${gatehouse.issuer}/join#${token}`);
    await ivy.getByRole('link', { name: `Continue with ${PARTNERS.name}`, exact: true }).click();
    await signInUpstream(ivy, 'ivy');
    await ivy.waitForURL(`${gatehouse.issuer}/`);
    await ivy.getByRole('heading', { name: 'Signed in as Ivy Lee' }).waitFor();
    await ivy.goto(`${rp.url}/login`);
    await allowAndReturn(ivy);
    assert.equal(await text(ivy, 'groups'), JSON.stringify(['partners']));
    assert.equal(await text(ivy, 'email'), 'ivy@partner.example', "the invitation's address");
    assert.equal(await text(ivy, 'idp'), PARTNERS.id);
    await ivy.close();

    // The invitation is spent: the stranger cannot use it after her.
    const late = (await screens.fresh()).page;
    await late.goto(`${gatehouse.issuer}/oauth2/upstream/${PARTNERS.id}/start?invitation=${token}`);
    await signInUpstream(late, 'stranger');
    await late.getByRole('heading', { name: 'Signing in did not work' }).waitFor();
    assert.ok(await late.getByText('This invitation link is not valid.', { exact: false }).isVisible());
    await late.close();

    const users = (await api(admin, 'GET', '/api/v1/admin/users')).body as { users: { username: string }[] };
    const usernames = users.users.map((u) => u.username).sort();
    assert.deepEqual(usernames, ['admin', 'ivy', 'mira', 'sam'], 'no account for the stranger');
    await admin.close();
  });

  it('unlinks on the Security screen, but not the only way someone can sign in', async () => {
    const { sam, mira } = signedIn;
    assert.ok(sam && mira, 'the sign-in journeys ran first');

    await mira.goto(`${gatehouse.issuer}/security`);
    const link = mira.getByTestId('upstream-link');
    await link.waitFor();
    assert.match((await link.textContent()) ?? '', new RegExp(STRICT.name));
    await screenshot(mira, '85-security-linked-sign-ins');
    await mira.getByRole('button', { name: `Unlink ${STRICT.name}` }).click();
    await mira
      .getByRole('group', { name: `Unlink ${STRICT.name}? You can no longer sign in with it.` })
      .getByRole('button', { name: `Unlink ${STRICT.name}` })
      .click();
    await mira.getByText(`Unlinked ${STRICT.name}.`).waitFor();
    await mira.getByText('No sign-ins are linked to your account.').waitFor();
    assert.deepEqual((await api(mira, 'GET', '/api/v1/me/upstreams')).body, { links: [] });

    // Sam has no password: his only link stays.
    await sam.goto(`${gatehouse.issuer}/security`);
    await sam.getByTestId('upstream-link').waitFor();
    await sam.getByRole('button', { name: `Unlink ${CORP.name}` }).click();
    await sam
      .getByRole('group', { name: `Unlink ${CORP.name}? You can no longer sign in with it.` })
      .getByRole('button', { name: `Unlink ${CORP.name}` })
      .click();
    await sam.getByText(`${CORP.name} is the only way you can sign in.`, { exact: false }).waitFor();
    const left = (await api(sam, 'GET', '/api/v1/me/upstreams')).body as { links: { upstreamId: string }[] };
    assert.deepEqual(
      left.links.map((l) => l.upstreamId),
      [CORP.id],
    );
    await sam.close();
    await mira.close();
  });
});
