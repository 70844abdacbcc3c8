import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { InteractionView, TokenResponse, type ClientRegistrationInput, type InteractionNext } from '@gatehouse/shared';
import { adminBrowser } from '../helpers/admin.js';
import {
  CONFIDENTIAL,
  ISSUER,
  PUBLIC,
  SECRET,
  authorize,
  authorizeQuery,
  basic,
  browser,
  csrf,
  harness,
  local,
  resume,
  startInteraction,
  submitLogin,
  type Agent,
  type Harness,
  ALICE_ID,
  describeManagingUsers,
} from '../helpers/harness.js';
import { makeGroup, nestGroup, setMember } from '../helpers/directory.js';
import { portalBrowser, secondFactorFor, totp } from '../helpers/mfa.js';

/** Open to members of `employees`, which alice is in through `staff` nested in it. */
const WIKI: ClientRegistrationInput = {
  client_id: 'wiki',
  client_secret: SECRET,
  name: 'Wiki',
  redirect_uris: ['https://wiki.example.org/cb'],
  consent: 'implicit',
  allowed_groups: ['employees'],
};
/** Open to `finance` only: alice is not in it. */
const PAYROLL: ClientRegistrationInput = {
  client_id: 'payroll',
  client_secret: SECRET,
  name: 'Payroll',
  redirect_uris: ['https://payroll.example.org/cb'],
  consent: 'implicit',
  allowed_groups: ['finance'],
};

const params = (client: ClientRegistrationInput, extra: Record<string, string> = {}) => ({
  client_id: client.client_id,
  redirect_uri: client.redirect_uris[0],
  response_type: 'code',
  scope: 'openid profile offline_access',
  state: 'state-xyz',
  ...extra,
});

const tokenAt = (h: Harness, client: ClientRegistrationInput, form: Record<string, string>) =>
  request(h.app).post('/oauth2/token').set('Authorization', basic(client.client_id, SECRET)).type('form').send(form);

const redeemAt = (h: Harness, client: ClientRegistrationInput, code: string) =>
  tokenAt(h, client, { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0]! });

/** The authorize_denied events of the group policy in the audit trail. */
const policyDenials = (h: Harness) => h.audit.filter((l) => l.includes('event=authorize_denied') && l.includes('reason=group_policy'));

function assertDeniedAt(url: URL, client: ClientRegistrationInput): void {
  assert.equal(`${url.origin}${url.pathname}`, client.redirect_uris[0]);
  assert.equal(url.searchParams.get('error'), 'access_denied');
  assert.equal(url.searchParams.get('state'), 'state-xyz');
  assert.equal(url.searchParams.get('iss'), ISSUER);
  assert.equal(url.searchParams.get('code'), null);
}

describe('access policy: allowed groups', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ clients: [CONFIDENTIAL, PUBLIC, WIKI, PAYROLL] });
    await makeGroup(h, 'employees');
    await makeGroup(h, 'finance');
    await nestGroup(h, 'staff', ['employees']);
  });
  after(() => h.close());

  beforeEach(async () => {
    // Each test starts with alice in staff (nested in employees) and ops, as the harness made her.
    await setMember(h, 'staff', ALICE_ID, true);
    h.audit.length = 0;
  });

  it('lets a member through a nested group sign in and get tokens', async () => {
    const url = await authorize(browser(h), params(WIKI));
    const code = url.searchParams.get('code');
    assert.ok(code, url.toString());
    TokenResponse.parse((await redeemAt(h, WIKI, code).expect(200)).body);
    assert.deepEqual(policyDenials(h), []);
  });

  it('shows an outsider the denied screen after login, then answers access_denied with state and iss', async () => {
    const agent = browser(h);
    const { id, screen } = await startInteraction(agent, params(PAYROLL));
    assert.equal(screen, '/login');
    assert.deepEqual(await submitLogin(agent, id), { next: 'denied' } satisfies InteractionNext);

    const view = InteractionView.parse((await agent.get(`/api/v1/interactions/${id}`).expect(200)).body);
    assert.equal(view.prompt, 'denied');
    assert.deepEqual(view.client, { id: 'payroll', name: 'Payroll' });
    assert.equal(view.user?.username, 'alice');

    const abort = await agent.post(`/api/v1/interactions/${id}/abort`).set(csrf).expect(200);
    assert.equal(abort.body.next, 'redirect');
    assertDeniedAt(await resume(agent, abort.body.location), PAYROLL);

    const denials = policyDenials(h);
    assert.equal(denials.length, 1, 'one denial, one audit event');
    assert.match(denials[0]!, new RegExp(`user=${ALICE_ID}`));
    assert.match(denials[0]!, /client=payroll/);
    assert.equal(h.audit.filter((l) => l.includes('event=authorize_denied')).length, 1);
  });

  it('sends a signed-in outsider straight to the denied screen, and keeps it there on resume', async () => {
    const agent = await portalBrowser(h);
    const { id, screen } = await startInteraction(agent, params(PAYROLL));
    assert.equal(screen, '/denied');
    const again = await agent.get(`/oauth2/authorize/${id}`).expect(303);
    assert.equal(local(again.headers.location), `/denied?interaction=${id}`);
    const abort = await agent.post(`/api/v1/interactions/${id}/abort`).set(csrf).expect(200);
    assertDeniedAt(await resume(agent, abort.body.location), PAYROLL);
    assert.equal(policyDenials(h).length, 1);
  });

  it('answers prompt=none for an outsider with access_denied at once', async () => {
    const agent = await portalBrowser(h);
    const res = await agent.get(authorizeQuery(params(PAYROLL, { prompt: 'none' }))).expect(303);
    assertDeniedAt(new URL(res.headers.location!), PAYROLL);
    const denials = policyDenials(h);
    assert.equal(denials.length, 1);
    assert.match(denials[0]!, new RegExp(`user=${ALICE_ID}`));
    assert.match(denials[0]!, /client=payroll/);
  });

  it('checks the policy after the second factor too', async () => {
    const { secret, turnOff } = await secondFactorFor(h);
    try {
      const agent = browser(h);
      const { id } = await startInteraction(agent, params(PAYROLL));
      assert.deepEqual(await submitLogin(agent, id), { next: 'mfa' });
      const res = await agent
        .post(`/api/v1/interactions/${id}/mfa`)
        .set(csrf)
        .send({ code: await totp(h, secret) })
        .expect(200);
      assert.deepEqual(res.body, { next: 'denied' });
      assert.equal(policyDenials(h).length, 1);
    } finally {
      await turnOff();
    }
  });

  it('refuses a refresh once the user has left the allowed groups, revoking the grant', async () => {
    const code = (await authorize(browser(h), params(WIKI))).searchParams.get('code')!;
    const tokens = TokenResponse.parse((await redeemAt(h, WIKI, code).expect(200)).body);
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! };
    const next = TokenResponse.parse((await tokenAt(h, WIKI, refresh).expect(200)).body);

    await setMember(h, 'staff', ALICE_ID, false);
    const res = await tokenAt(h, WIKI, { ...refresh, refresh_token: next.refresh_token! }).expect(400);
    assert.equal(res.body.error, 'invalid_grant');
    await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${next.access_token}`).expect(401);

    await setMember(h, 'staff', ALICE_ID, true);
    const after = await tokenAt(h, WIKI, { ...refresh, refresh_token: next.refresh_token! }).expect(400);
    assert.equal(after.body.error, 'invalid_grant', 'the revoked grant stays revoked');
  });

  it('refuses a code whose user left the allowed groups between authorize and token', async () => {
    const code = (await authorize(browser(h), params(WIKI))).searchParams.get('code')!;
    await nestGroup(h, 'staff', []);
    try {
      const res = await redeemAt(h, WIKI, code).expect(400);
      assert.equal(res.body.error, 'invalid_grant');
    } finally {
      await nestGroup(h, 'staff', ['employees']);
    }
  });

  it('applies a policy an admin sets, at the next sign-in', async () => {
    const admin = await adminBrowser(h);
    await admin
      .post('/api/v1/admin/clients')
      .set(csrf)
      .send({ clientId: 'wiki2', name: 'Wiki 2', consent: 'implicit', redirectUris: ['https://wiki.example.org/cb'] })
      .expect(201);
    const client = { ...WIKI, client_id: 'wiki2' };
    const agent: Agent = await portalBrowser(h);
    const ok = await agent.get(authorizeQuery(params(client))).expect(303);
    assert.ok(new URL(ok.headers.location!).searchParams.get('code'));

    await admin
      .patch('/api/v1/admin/clients/wiki2')
      .set(csrf)
      .send({ allowedGroups: ['finance'] })
      .expect(200);
    const { screen } = await startInteraction(agent, params(client));
    assert.equal(screen, '/denied');
  });
});

// Groups carry a second-factor requirement in the embedded directory; OpenBao enforces its own.
describeManagingUsers('second factor required by a group', () => {
  it('asks a member of a group that requires one for a second factor, whatever the client requires', async () => {
    const h = await harness();
    try {
      const grafana = { client_id: 'grafana', redirect_uri: 'http://127.0.0.1:8000/cb', response_type: 'code', scope: 'openid' };
      const signedIn = await portalBrowser(h);
      const { directory } = h.ctx.identity;
      assert.ok(await directory.updateGroup((await directory.findGroupsByName(['ops']))[0]!.id, { requireMfa: true }));

      const none = await signedIn.get(authorizeQuery({ ...grafana, prompt: 'none' })).expect(303);
      assert.equal(new URL(none.headers.location!).searchParams.get('error'), 'interaction_required');
      assert.equal((await startInteraction(signedIn, grafana)).screen, '/enrol');

      const agent = browser(h);
      const { id } = await startInteraction(agent, grafana);
      assert.deepEqual(await submitLogin(agent, id), { next: 'enrol' });
    } finally {
      await h.close();
    }
  });
});
