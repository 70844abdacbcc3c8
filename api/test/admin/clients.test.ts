import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AdminClient, AdminClientList, ClientWithSecret, TokenResponse, type CreateClientRequest } from '@gatehouse/shared';
import { sha256 } from '../../src/lib/hash.js';
import { adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import { authorize, authorizeQuery, basic, browser, csrf, harness, pkce, type Agent, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/clients';
const REDIRECT = 'https://app.example.org/cb';

const body = (extra: Partial<CreateClientRequest> = {}): CreateClientRequest => ({ name: 'Wiki', redirectUris: [REDIRECT], ...extra });

async function create(agent: Agent, extra: Partial<CreateClientRequest> = {}): Promise<ClientWithSecret> {
  const res = await agent.post(PATH).set(csrf).send(body(extra));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return ClientWithSecret.parse(res.body);
}

function errorOf(res: { body: unknown }): { code: string; message: string; details?: unknown } {
  return (res.body as { error: { code: string; message: string; details?: unknown } }).error;
}

const token = (h: Harness, clientId: string, secret: string, form: Record<string, string>) =>
  request(h.app).post('/oauth2/token').set('Authorization', basic(clientId, secret)).type('form').send(form);

/** A code flow for alice at the given client, in a new browser; answers the code. */
async function codeFor(h: Harness, clientId: string, scope = 'openid profile offline_access'): Promise<string> {
  const url = await authorize(browser(h), { client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope, state: 'st' });
  const code = url.searchParams.get('code');
  assert.ok(code, url.toString());
  return code;
}

const redeemAt = (h: Harness, clientId: string, secret: string, code: string) =>
  token(h, clientId, secret, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });

describe('admin: clients', () => {
  let h: Harness;
  let admin: Agent;
  before(async () => {
    h = await harness();
    admin = await adminBrowser(h);
  });
  after(() => h.close());

  describe('create', () => {
    it('registers a confidential client with a generated id and a secret shown once, stored only as its hash', async () => {
      const created = await create(admin, { name: 'Generated' });
      const { client, clientSecret } = created;
      assert.match(client.clientId, /^[A-Za-z0-9_-]{22}$/);
      assert.match(clientSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
      const now = h.clock.now();
      assert.deepEqual(client, {
        clientId: client.clientId,
        name: 'Generated',
        type: 'confidential',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        consent: 'explicit',
        scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        idTokenSignedResponseAlg: 'RS256',
        logoUri: null,
        requireMfa: false,
        allowedGroups: [],
        source: 'local',
        createdAt: now,
        updatedAt: now,
      });
      assert.equal((await h.ctx.storage.clients.find(client.clientId))?.secretHash, sha256(clientSecret!));

      const fetched = await admin.get(`${PATH}/${client.clientId}`).expect(200);
      assert.deepEqual(AdminClient.parse(fetched.body), client);
      assert.equal(fetched.body.clientSecret, undefined);
      const list = AdminClientList.parse((await admin.get(PATH).expect(200)).body);
      assert.ok(list.clients.some((c) => c.clientId === client.clientId));
      assert.ok(!JSON.stringify(list).includes(clientSecret!), 'the list never shows a secret');

      const line = h.audit.find((l) => l.includes('event=client_create') && l.includes(`client=${client.clientId}`));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.ok(
        h.audit.every((l) => !l.includes(clientSecret!)),
        'the secret is never logged',
      );
    });

    it('registers a public client without a secret, authenticating with none', async () => {
      const { client, clientSecret } = await create(admin, { clientId: 'native-app', type: 'public' });
      assert.equal(clientSecret, undefined);
      assert.equal(client.tokenEndpointAuthMethod, 'none');
      assert.equal((await h.ctx.storage.clients.find('native-app'))?.secretHash, null);
    });

    it('keeps the chosen client_secret_post method and the given fields', async () => {
      const { client } = await create(admin, {
        clientId: 'posting',
        tokenEndpointAuthMethod: 'client_secret_post',
        consent: 'implicit',
        scopes: ['openid', 'email'],
        postLogoutRedirectUris: ['https://app.example.org/bye'],
        logoUri: 'https://app.example.org/logo.png',
        requireMfa: true,
        idTokenSignedResponseAlg: 'ES256',
      });
      assert.equal(client.tokenEndpointAuthMethod, 'client_secret_post');
      assert.equal(client.consent, 'implicit');
      assert.deepEqual(client.scopes, ['openid', 'email']);
      assert.deepEqual(client.postLogoutRedirectUris, ['https://app.example.org/bye']);
      assert.equal(client.logoUri, 'https://app.example.org/logo.png');
      assert.equal(client.requireMfa, true);
      assert.equal(client.idTokenSignedResponseAlg, 'ES256');
    });

    it('refuses a public client that would authenticate, and a confidential one that would not', async () => {
      for (const extra of [
        { clientId: 'bad-public', type: 'public', tokenEndpointAuthMethod: 'client_secret_basic' },
        { clientId: 'bad-confidential', type: 'confidential', tokenEndpointAuthMethod: 'none' },
      ] as const) {
        const res = await admin.post(PATH).set(csrf).send(body(extra)).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.deepEqual(
          (errorOf(res).details as { field: string }[]).map((d) => d.field),
          ['tokenEndpointAuthMethod'],
        );
        assert.equal(await h.ctx.storage.clients.find(extra.clientId), undefined);
      }
    });

    it('answers 409 conflict for a taken client id, configured or local, and changes nothing', async () => {
      await create(admin, { clientId: 'taken', name: 'First' });
      for (const clientId of ['taken', 'grafana']) {
        const res = await admin
          .post(PATH)
          .set(csrf)
          .send(body({ clientId, name: 'Second' }))
          .expect(409);
        assert.equal(errorOf(res).code, 'conflict');
        assert.match(errorOf(res).message, new RegExp(clientId));
      }
      assert.equal((await h.ctx.storage.clients.find('taken'))?.name, 'First');
      assert.equal((await h.ctx.storage.clients.find('grafana'))?.name, 'Grafana');
    });

    it('refuses bad bodies with the failing field', async () => {
      const cases: [object, string][] = [
        [{ redirectUris: [REDIRECT] }, 'name'],
        [{ name: 'x', redirectUris: [] }, 'redirectUris'],
        [{ name: 'x', redirectUris: [REDIRECT], scopes: ['profile'] }, 'scopes'],
        [{ name: 'x', redirectUris: [REDIRECT], scopes: ['openid', 'admin:everything'] }, 'scopes.1'],
        [{ name: 'x', redirectUris: [REDIRECT], clientId: 'has space' }, 'clientId'],
        [{ name: 'x', redirectUris: [REDIRECT], logoUri: 'http://app.example.org/logo.png' }, 'logoUri'],
        [{ name: 'x', redirectUris: [REDIRECT], clientSecret: 'mine' }, ''],
        [{ name: 'x', redirectUris: [REDIRECT], allowedGroups: ['no spaces'] }, 'allowedGroups.0'],
      ];
      const before = (await h.ctx.storage.clients.list()).length;
      for (const [sent, field] of cases) {
        const res = await admin.post(PATH).set(csrf).send(sent);
        assert.equal(res.status, 400, JSON.stringify(sent));
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.ok(
          (errorOf(res).details as { field: string }[]).some((d) => d.field === field),
          `${JSON.stringify(sent)} → ${JSON.stringify(errorOf(res).details)}`,
        );
      }
      assert.equal((await h.ctx.storage.clients.list()).length, before);
    });
  });

  describe('redirect URIs', () => {
    const refused: [string, RegExp][] = [
      ['/relative/cb', /absolute URL/],
      ['https://app.example.org/cb#frag', /fragment/],
      ['http://app.example.org/cb', /https/],
      ['javascript:alert(1)', /not allowed/],
      ['data:text/html,hi', /not allowed/],
    ];
    for (const [uri, message] of refused) {
      it(`refuses ${uri}`, async () => {
        for (const field of ['redirectUris', 'postLogoutRedirectUris'] as const) {
          const res = await admin
            .post(PATH)
            .set(csrf)
            .send(body(field === 'redirectUris' ? { redirectUris: [uri] } : { postLogoutRedirectUris: [uri] }))
            .expect(400);
          const details = errorOf(res).details as { field: string; message: string }[];
          assert.equal(details[0]?.field, `${field}.0`);
          assert.match(details[0]!.message, message);
        }
      });
    }

    it('allows https, http on loopback and the private-use schemes of native apps', async () => {
      const uris = [
        'https://app.example.org/cb?tenant=1',
        'http://127.0.0.1:8080/cb',
        'http://localhost/cb',
        'http://[::1]:9000/cb',
        'com.example.app:/oauth2redirect',
      ];
      const { client } = await create(admin, { clientId: 'uris', type: 'public', redirectUris: uris });
      assert.deepEqual(client.redirectUris, uris);
    });

    it('lets a native app with a private-use scheme complete the code flow', async () => {
      await create(admin, { clientId: 'mobile', type: 'public', consent: 'implicit', redirectUris: ['com.example.app:/cb'] });
      const { challenge } = pkce();
      const url = await authorize(browser(h), {
        client_id: 'mobile',
        redirect_uri: 'com.example.app:/cb',
        response_type: 'code',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      assert.equal(url.protocol, 'com.example.app:');
      assert.ok(url.searchParams.get('code'));
    });

    it('checks redirect URIs on update too', async () => {
      await create(admin, { clientId: 'upd-uris' });
      const res = await admin
        .patch(`${PATH}/upd-uris`)
        .set(csrf)
        .send({ redirectUris: ['http://evil.example.org/cb'] })
        .expect(400);
      assert.equal((errorOf(res).details as { field: string }[])[0]?.field, 'redirectUris.0');
      assert.deepEqual((await h.ctx.storage.clients.find('upd-uris'))?.redirectUris, [REDIRECT]);
    });
  });

  describe('access', () => {
    it('refuses non-admins with 403 insufficient_scope on every endpoint', async () => {
      const alice = await portalBrowser(h);
      const calls = [
        alice.get(PATH),
        alice.post(PATH).set(csrf).send(body()),
        alice.get(`${PATH}/grafana`),
        alice.patch(`${PATH}/grafana`).set(csrf).send({ name: 'x' }),
        alice.delete(`${PATH}/grafana`).set(csrf),
        alice.post(`${PATH}/grafana/secret`).set(csrf),
      ];
      for (const call of calls) {
        const res = await call;
        assert.equal(res.status, 403);
        assert.equal(errorOf(res).code, 'insufficient_scope');
      }
    });

    it('lets an admin:read token read but not write, and a token without admin scopes do neither', async () => {
      const reader = bearer(h, await apiToken(h, await adminId(h), ['admin:read']));
      await reader.get(PATH).expect(200);
      await reader.get(`${PATH}/grafana`).expect(200);
      for (const res of [
        await reader.post(PATH, body({ clientId: 'by-reader' })),
        await reader.patch(`${PATH}/grafana`, { name: 'x' }),
        await reader.delete(`${PATH}/grafana`),
        await reader.post(`${PATH}/grafana/secret`),
      ]) {
        assert.equal(res.status, 403);
        assert.equal(errorOf(res).code, 'insufficient_scope');
        assert.match(res.headers['www-authenticate'] ?? '', /scope="admin:write"/);
      }
      assert.equal(await h.ctx.storage.clients.find('by-reader'), undefined);
      const other = bearer(h, await apiToken(h, await adminId(h), ['tokens']));
      assert.equal(errorOf(await other.get(PATH).expect(403)).code, 'insufficient_scope');
    });

    it('lets an admin:write token manage clients', async () => {
      const writer = bearer(h, await apiToken(h, await adminId(h), ['admin:write']));
      const res = await writer.post(PATH, body({ clientId: 'by-token' })).expect(201);
      assert.ok(ClientWithSecret.parse(res.body).clientSecret);
      await writer.delete(`${PATH}/by-token`).expect(204);
    });

    it('asks for credentials without a session or token', async () => {
      const res = await request(h.app).get(PATH).expect(401);
      assert.equal(errorOf(res).code, 'unauthenticated');
    });

    it('answers 404 for an unknown client on every endpoint', async () => {
      for (const res of [
        await admin.get(`${PATH}/nope`),
        await admin.patch(`${PATH}/nope`).set(csrf).send({ name: 'x' }),
        await admin.delete(`${PATH}/nope`).set(csrf),
        await admin.post(`${PATH}/nope/secret`).set(csrf),
      ]) {
        assert.equal(res.status, 404);
        assert.equal(errorOf(res).code, 'not_found');
      }
    });
  });

  describe('configured clients', () => {
    it('shows them, read-only: every change is a 409 conflict saying they are managed in configuration', async () => {
      const grafana = AdminClient.parse((await admin.get(`${PATH}/grafana`).expect(200)).body);
      assert.equal(grafana.source, 'config');
      const before = await h.ctx.storage.clients.find('grafana');
      for (const res of [
        await admin.patch(`${PATH}/grafana`).set(csrf).send({ name: 'Renamed' }),
        await admin.delete(`${PATH}/grafana`).set(csrf),
        await admin.post(`${PATH}/grafana/secret`).set(csrf),
      ]) {
        assert.equal(res.status, 409);
        assert.equal(errorOf(res).code, 'conflict');
        assert.match(errorOf(res).message, /managed in configuration/);
        assert.equal(res.body.clientSecret, undefined);
      }
      assert.deepEqual(await h.ctx.storage.clients.find('grafana'), before);
    });
  });

  describe('update', () => {
    it('changes the given fields, keeps the rest and the secret, and is audited without secrets', async () => {
      const { client, clientSecret } = await create(admin, { clientId: 'patched' });
      h.clock.advance(10);
      const res = await admin
        .patch(`${PATH}/patched`)
        .set(csrf)
        .send({ name: 'Patched', redirectUris: [REDIRECT, 'https://app.example.org/other'], logoUri: 'https://app.example.org/l.png' })
        .expect(200);
      const updated = ClientWithSecret.parse(res.body);
      assert.equal(updated.clientSecret, undefined);
      assert.deepEqual(updated.client, {
        ...client,
        name: 'Patched',
        redirectUris: [REDIRECT, 'https://app.example.org/other'],
        logoUri: 'https://app.example.org/l.png',
        updatedAt: client.createdAt + 10,
      });
      assert.equal((await h.ctx.storage.clients.find('patched'))?.secretHash, sha256(clientSecret!));
      await admin.patch(`${PATH}/patched`).set(csrf).send({ logoUri: null }).expect(200);
      assert.equal((await h.ctx.storage.clients.find('patched'))?.logoUri, null);
      const line = h.audit.find((l) => l.includes('event=client_update') && l.includes('client=patched'));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
    });

    it('refuses an empty change and unknown fields', async () => {
      await create(admin, { clientId: 'empty-patch' });
      for (const sent of [{}, { source: 'config' }, { clientId: 'renamed' }]) {
        const res = await admin.patch(`${PATH}/empty-patch`).set(csrf).send(sent).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
      }
    });

    it('drops the secret when a client becomes public and issues a new one when it becomes confidential', async () => {
      const { clientSecret: first } = await create(admin, { clientId: 'flip' });
      const toPublic = ClientWithSecret.parse((await admin.patch(`${PATH}/flip`).set(csrf).send({ type: 'public' }).expect(200)).body);
      assert.equal(toPublic.clientSecret, undefined);
      assert.equal(toPublic.client.tokenEndpointAuthMethod, 'none');
      assert.equal((await h.ctx.storage.clients.find('flip'))?.secretHash, null);
      const old = await token(h, 'flip', first!, { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT });
      assert.equal(old.status, 401);
      assert.equal(old.body.error, 'invalid_client');

      const res = await admin.patch(`${PATH}/flip`).set(csrf).send({ type: 'confidential', tokenEndpointAuthMethod: 'client_secret_post' });
      const toConfidential = ClientWithSecret.parse(res.body);
      assert.match(toConfidential.clientSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(toConfidential.clientSecret, first);
      assert.equal(toConfidential.client.tokenEndpointAuthMethod, 'client_secret_post');
      assert.equal((await h.ctx.storage.clients.find('flip'))?.secretHash, sha256(toConfidential.clientSecret!));
      assert.ok(h.audit.every((l) => !l.includes(toConfidential.clientSecret!)));
    });

    it('refuses a method that does not fit the type', async () => {
      await create(admin, { clientId: 'fit', type: 'public' });
      const res = await admin.patch(`${PATH}/fit`).set(csrf).send({ tokenEndpointAuthMethod: 'client_secret_basic' }).expect(400);
      assert.equal((errorOf(res).details as { field: string }[])[0]?.field, 'tokenEndpointAuthMethod');
      await create(admin, { clientId: 'fit2' });
      await admin.patch(`${PATH}/fit2`).set(csrf).send({ tokenEndpointAuthMethod: 'none' }).expect(400);
      assert.equal((await h.ctx.storage.clients.find('fit2'))?.tokenEndpointAuthMethod, 'client_secret_basic');
    });

    it('takes effect at the authorization endpoint at once', async () => {
      await create(admin, { clientId: 'live', consent: 'implicit' });
      const params = { client_id: 'live', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: 's' };
      const agent = browser(h);
      assert.ok((await authorize(agent, params)).searchParams.get('code'));
      await admin
        .patch(`${PATH}/live`)
        .set(csrf)
        .send({ redirectUris: ['https://app.example.org/new'] })
        .expect(200);
      const res = await agent.get(authorizeQuery(params)).expect(400);
      assert.match(res.text, /not registered/);
    });
  });

  describe('allowed groups', () => {
    it('refuses unknown group names, naming them, and changes nothing', async () => {
      const res = await admin
        .post(PATH)
        .set(csrf)
        .send(body({ clientId: 'grouped', allowedGroups: ['staff', 'ghosts', 'phantoms'] }))
        .expect(400);
      assert.equal(errorOf(res).code, 'validation_failed');
      const details = errorOf(res).details as { field: string; message: string }[];
      assert.equal(details[0]?.field, 'allowedGroups');
      assert.match(details[0]!.message, /ghosts, phantoms/);
      assert.doesNotMatch(details[0]!.message, /staff/);
      assert.equal(await h.ctx.storage.clients.find('grouped'), undefined);

      await create(admin, { clientId: 'grouped', allowedGroups: ['staff', 'ops', 'staff'] });
      assert.deepEqual((await h.ctx.storage.clients.find('grouped'))?.allowedGroups, ['staff', 'ops']);
      const patch = await admin
        .patch(`${PATH}/grouped`)
        .set(csrf)
        .send({ allowedGroups: ['nobody'] })
        .expect(400);
      assert.match((errorOf(patch).details as { message: string }[])[0]!.message, /nobody/);
      assert.deepEqual((await h.ctx.storage.clients.find('grouped'))?.allowedGroups, ['staff', 'ops']);
      const cleared = await admin.patch(`${PATH}/grouped`).set(csrf).send({ allowedGroups: [] }).expect(200);
      assert.deepEqual(cleared.body.client.allowedGroups, []);
    });
  });

  describe('secret rotation', () => {
    it('issues a new secret: the old one fails at the token endpoint at once, the new one works', async () => {
      const { clientSecret: old } = await create(admin, { clientId: 'rotating', consent: 'implicit' });
      const code = await codeFor(h, 'rotating');
      const res = await admin.post(`${PATH}/rotating/secret`).set(csrf).expect(200);
      const rotated = ClientWithSecret.parse(res.body);
      assert.ok(rotated.clientSecret);
      assert.notEqual(rotated.clientSecret, old);
      assert.equal(rotated.client.clientId, 'rotating');

      const refused = await redeemAt(h, 'rotating', old!, code);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'invalid_client');
      const ok = await redeemAt(h, 'rotating', rotated.clientSecret!, code);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      TokenResponse.parse(ok.body);

      const line = h.audit.find((l) => l.includes('event=client_secret_rotate') && l.includes('client=rotating'));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.ok(h.audit.every((l) => !l.includes(rotated.clientSecret!) && !l.includes(old!)));
    });

    it('answers 409 for a public client, which has no secret', async () => {
      await create(admin, { clientId: 'no-secret', type: 'public' });
      const res = await admin.post(`${PATH}/no-secret/secret`).set(csrf).expect(409);
      assert.equal(errorOf(res).code, 'conflict');
      assert.equal((await h.ctx.storage.clients.find('no-secret'))?.secretHash, null);
    });
  });

  describe('delete', () => {
    it('removes the client with its grants: its refresh and access tokens stop working, also for a new client of that id', async () => {
      const { clientSecret } = await create(admin, { clientId: 'doomed', consent: 'implicit' });
      const issued = TokenResponse.parse((await redeemAt(h, 'doomed', clientSecret!, await codeFor(h, 'doomed')).expect(200)).body);
      const userinfo = () => request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${issued.access_token}`);
      await userinfo().expect(200);

      await admin.delete(`${PATH}/doomed`).set(csrf).expect(204);
      await admin.get(`${PATH}/doomed`).expect(404);
      assert.equal(await h.ctx.storage.clients.find('doomed'), undefined);
      const refresh = { grant_type: 'refresh_token', refresh_token: issued.refresh_token! };
      const gone = await token(h, 'doomed', clientSecret!, refresh);
      assert.equal(gone.status, 401);
      assert.equal(gone.body.error, 'invalid_client');
      await userinfo().expect(401);

      const again = await create(admin, { clientId: 'doomed' });
      const stale = await token(h, 'doomed', again.clientSecret!, refresh);
      assert.equal(stale.status, 400);
      assert.equal(stale.body.error, 'invalid_grant');

      const line = h.audit.find((l) => l.includes('event=client_delete') && l.includes('client=doomed'));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
    });
  });
});
