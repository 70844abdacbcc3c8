import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AdminClientList, ApiErrorBody, ApiTokenList, ClientWithSecret, OAuthErrorBody, Profile } from '@gatehouse/shared';
import { createApp } from '../../src/app.js';
import type { Logger } from '../../src/http/logger.js';
import { oauthErrorBody } from '../../src/oidc/error-response.js';
import { adminBrowser } from '../helpers/admin.js';
import { csrf, harness, itManagingUsers, type Agent, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const CONTROL_MESSAGE = 'must not contain control or direction-changing characters';
const REDIRECT = 'https://app.example.org/cb';

/** A logger that keeps every error it is given, so a test can tell a client error was not logged as ours. */
function recordingLogger(errors: string[]): Logger {
  return { info: () => {}, warn: () => {}, error: (message, err) => errors.push(`${message}: ${String(err)}`) };
}

const apiError = (res: { body: unknown }) => ApiErrorBody.parse(res.body).error;

/** A harness whose app logs into `errors`; `agent` signs in to it. */
async function loggedHarness(errors: string[]): Promise<Harness> {
  const h = await harness();
  return { ...h, app: createApp({ ...h.ctx, log: recordingLogger(errors) }) };
}

describe('requests Express cannot take are answered 4xx in the shape of their surface, and not logged as failures', () => {
  let h: Harness;
  let admin: Agent;
  const errors: string[] = [];
  before(async () => {
    h = await loggedHarness(errors);
    admin = await adminBrowser(h);
  });
  after(() => h.close());
  beforeEach(() => {
    errors.length = 0;
  });

  it('answers a path parameter that cannot be percent-decoded under /api with 400 bad_request, signed in or not', async () => {
    for (const path of ['/api/v1/admin/users/%ff', '/api/v1/interactions/%ff', '/api/v1/me/tokens/%E0%A4%A']) {
      for (const client of [request(h.app), admin]) {
        const res = await client.get(path).expect(400);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.deepEqual(apiError(res), { code: 'bad_request', message: 'The request URL could not be decoded.' });
      }
    }
    const write = await admin.post('/api/v1/interactions/%ff/login').set(csrf).send({ username: 'a', password: 'b' }).expect(400);
    assert.equal(apiError(write).code, 'bad_request');
    assert.deepEqual(errors, []);
  });

  it('answers an undecodable request id at the authorization endpoint with its error page', async () => {
    const res = await request(h.app).get('/oauth2/authorize/%ff%fe').expect(400);
    assert.match(res.headers['content-type'] ?? '', /^text\/html/);
    assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(res.text, /error: invalid_request/);
    assert.deepEqual(errors, []);
  });

  it('answers bodies that cannot be read with their 4xx as bad_request: bad JSON, too large, unknown charset or encoding', async () => {
    const patch = () => admin.patch('/api/v1/me').set(csrf);
    const cases: [string, () => request.Test, number][] = [
      ['malformed JSON', () => patch().set('Content-Type', 'application/json').send('{"name":'), 400],
      ['a JSON scalar', () => patch().set('Content-Type', 'application/json').send('42'), 400],
      ['a body over 64 kB', () => patch().send({ name: 'x'.repeat(70 * 1024) }), 413],
      ['an unknown charset', () => patch().set('Content-Type', 'application/json; charset=koi8-r').send('{}'), 415],
      ['an unknown encoding', () => patch().set('Content-Type', 'application/json').set('Content-Encoding', 'br2').send('{}'), 415],
      ['gzip that is not gzip', () => patch().set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{}'), 400],
    ];
    for (const [what, send, status] of cases) {
      const res = await send();
      assert.equal(res.status, status, what);
      assert.equal(apiError(res).code, 'bad_request', what);
    }
    assert.deepEqual(errors, []);
  });

  it('refuses repeated query parameters with 400 on /api/v1 and at the authorization endpoint', async () => {
    const list = await admin.get('/api/v1/admin/users?q=a&q=b').expect(400);
    assert.deepEqual(apiError(list).details, [{ field: 'q', message: 'must be given once' }]);
    const authorize = await request(h.app)
      .get('/oauth2/authorize?client_id=grafana&client_id=cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcb&response_type=code')
      .expect(400);
    assert.match(authorize.headers['content-type'] ?? '', /^text\/html/);
    assert.deepEqual(errors, []);
  });

  it('gives the JSON OAuth endpoints invalid_request for http-errors style 4xx, and server_error for any other error with a status', () => {
    const undecodable = Object.assign(new URIError("Failed to decode param '%ff'"), { status: 400, statusCode: 400 });
    assert.deepEqual(oauthErrorBody(undecodable), {
      status: 400,
      body: { error: 'invalid_request', error_description: 'The request URL could not be decoded.' },
    });
    const tooLarge = Object.assign(new Error('request entity too large'), {
      status: 413,
      statusCode: 413,
      expose: true,
      type: 'entity.too.large',
    });
    assert.deepEqual(OAuthErrorBody.parse(oauthErrorBody(tooLarge).body), {
      error: 'invalid_request',
      error_description: 'The request body could not be read.',
    });
    // An error of ours that carries a status (a backend's refusal) is not the client's fault.
    const refusal = Object.assign(new Error('OpenBao refused'), { status: 400 });
    assert.equal(oauthErrorBody(refusal).status, 500);
  });
});

describe('a logo that is not a URL', () => {
  let h: Harness;
  let admin: Agent;
  const errors: string[] = [];
  before(async () => {
    h = await loggedHarness(errors);
    admin = await adminBrowser(h);
  });
  after(() => h.close());
  beforeEach(() => {
    errors.length = 0;
  });

  it('is refused with 400 validation_failed naming logoUri, on create and on change, and changes nothing', async () => {
    const before = AdminClientList.parse((await admin.get('/api/v1/admin/clients').expect(200)).body);
    for (const logoUri of ['not a url', 'https://exa mple.org/logo.png', 'http://[::1']) {
      const res = await admin
        .post('/api/v1/admin/clients')
        .set(csrf)
        .send({ name: 'Wiki', redirectUris: [REDIRECT], logoUri })
        .expect(400);
      assert.deepEqual(apiError(res), {
        code: 'validation_failed',
        message: 'The request is not valid.',
        details: [{ field: 'logoUri', message: 'must be an absolute URL' }],
      });
    }
    assert.deepEqual(AdminClientList.parse((await admin.get('/api/v1/admin/clients').expect(200)).body), before);

    const logo = 'https://cdn.example.org/wiki.png';
    const { client } = ClientWithSecret.parse(
      (
        await admin
          .post('/api/v1/admin/clients')
          .set(csrf)
          .send({ name: 'Wiki', redirectUris: [REDIRECT], logoUri: logo })
          .expect(201)
      ).body,
    );
    const changed = await admin.patch(`/api/v1/admin/clients/${client.clientId}`).set(csrf).send({ logoUri: 'nope' }).expect(400);
    assert.deepEqual(apiError(changed).details, [{ field: 'logoUri', message: 'must be an absolute URL' }]);
    const http = await admin
      .patch(`/api/v1/admin/clients/${client.clientId}`)
      .set(csrf)
      .send({ logoUri: 'http://cdn.example.org/w.png' })
      .expect(400);
    assert.deepEqual(apiError(http).details, [{ field: 'logoUri', message: 'must be an https URL' }]);
    assert.equal((await h.ctx.storage.clients.find(client.clientId))?.logoUri, logo);
    assert.deepEqual(errors, []);
  });
});

describe('display text with control or direction-changing characters', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const refusal = (res: { body: unknown }, field: string) =>
    assert.deepEqual(apiError(res), {
      code: 'validation_failed',
      message: 'The request is not valid.',
      details: [{ field, message: CONTROL_MESSAGE }],
    });

  it('is refused in the profile (PATCH /api/v1/me) and the profile stays as it was', async () => {
    const alice = await portalBrowser(h);
    const before = Profile.parse((await alice.get('/api/v1/me').expect(200)).body);
    refusal(await alice.patch('/api/v1/me').set(csrf).send({ name: 'Alice\u202Egnp.exe' }).expect(400), 'name');
    refusal(await alice.patch('/api/v1/me').set(csrf).send({ nickname: 'al\u001b[2J' }).expect(400), 'nickname');
    refusal(await alice.patch('/api/v1/me').set(csrf).send({ name: 'Alice\r\nX-Admin: yes' }).expect(400), 'name');
    assert.deepEqual(Profile.parse((await alice.get('/api/v1/me').expect(200)).body), before);
  });

  itManagingUsers('is not refused for other scripts, accents and emoji in the profile', async () => {
    const alice = await portalBrowser(h);
    const name = 'Zoë 山田 مريم 🦊';
    const changed = Profile.parse((await alice.patch('/api/v1/me').set(csrf).send({ name, nickname: 'דוד' }).expect(200)).body);
    assert.deepEqual([changed.name, changed.nickname], [name, 'דוד']);
  });

  it('is refused in an application name (NUL), and no application is made', async () => {
    const admin = await adminBrowser(h);
    const before = AdminClientList.parse((await admin.get('/api/v1/admin/clients').expect(200)).body);
    refusal(
      await admin
        .post('/api/v1/admin/clients')
        .set(csrf)
        .send({ name: 'Wiki\u0000', redirectUris: [REDIRECT] })
        .expect(400),
      'name',
    );
    assert.deepEqual(AdminClientList.parse((await admin.get('/api/v1/admin/clients').expect(200)).body), before);
    const ok = await admin
      .post('/api/v1/admin/clients')
      .set(csrf)
      .send({ name: 'ויקי 📚', redirectUris: [REDIRECT] })
      .expect(201);
    assert.equal(ClientWithSecret.parse(ok.body).client.name, 'ויקי 📚');
  });

  it('is refused in a personal API token name (a lone surrogate), and no token is made', async () => {
    const alice = await portalBrowser(h);
    const before = ApiTokenList.parse((await alice.get('/api/v1/me/tokens').expect(200)).body);
    const body = { name: 'ci\uD800', scopes: ['profile:read'], expiresInDays: 30 };
    refusal(await alice.post('/api/v1/me/tokens').set(csrf).send(body).expect(400), 'name');
    assert.deepEqual(ApiTokenList.parse((await alice.get('/api/v1/me/tokens').expect(200)).body), before);
  });

  itManagingUsers('is refused in a user name and a group description, and neither is made', async () => {
    const admin = await adminBrowser(h);
    refusal(await admin.post('/api/v1/admin/users').set(csrf).send({ username: 'mallory', name: 'Mallory\u2066' }).expect(400), 'name');
    assert.equal(await h.ctx.storage.users.findByLogin('mallory'), undefined);
    refusal(
      await admin.post('/api/v1/admin/groups').set(csrf).send({ name: 'auditors', description: 'read\u0085only' }).expect(400),
      'description',
    );
    assert.equal(
      (await h.ctx.storage.groups.list()).find((g) => g.name === 'auditors'),
      undefined,
    );
  });
});
