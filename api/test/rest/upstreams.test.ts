import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { UpstreamButtonList, UpstreamLinkList, UpstreamRedirect } from '@gatehouse/shared';
import { apiToken, bearer } from '../helpers/admin.js';
import { ALICE_ID, BACKEND, PASSWORD, csrf, harness, type Agent, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const MINE = '/api/v1/me/upstreams';
const TEN_MINUTES = 600;

const errorOf = (res: { body: unknown }) => (res.body as { error: { code: string; message: string; details?: unknown } }).error;

/** A port nothing listens on: an upstream that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An upstream that is only a discovery document on loopback: enough to be sent to its door. */
async function discoveryServer(): Promise<{ server: Server; base: string }> {
  let base = '';
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        response_types_supported: ['code'],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base };
}

/** Links alice (or `userId`) to an upstream identity straight in storage, as a callback would. */
async function link(h: Harness, upstreamId: string, userId = ALICE_ID, subject = `${upstreamId}-sub`): Promise<void> {
  assert.ok(
    await h.ctx.storage.upstreams.insertLink({
      issuer: `https://${upstreamId}.example.org`,
      subject,
      upstreamId,
      userId,
      email: 'alice@example.org',
      createdAt: h.clock.now(),
    }),
  );
}

const linkIds = async (h: Harness, userId = ALICE_ID) => (await h.ctx.storage.upstreams.linksOf(userId)).map((l) => l.upstreamId);

if (BACKEND === 'sqlite') {
  describe('me: linked sign-ins (upstream identity providers)', () => {
    let h: Harness;
    let upstream: Server;
    let base: string;

    before(async () => {
      ({ server: upstream, base } = await discoveryServer());
      h = await harness({
        // Every sign-in, link and unlink here counts against the sign-in limit.
        rateLimit: { login: 1000 },
        upstreams: [
          { id: 'corp', name: 'Corp SSO', issuer: base, client_id: 'gatehouse', client_secret: 'upstream-secret-corp' },
          { id: 'down', name: 'Down SSO', issuer: `http://127.0.0.1:${await closedPort()}`, client_id: 'gatehouse' },
          { id: 'quiet', name: 'Quiet SSO', issuer: base, client_id: 'gatehouse', hidden: true },
        ],
      });
    });
    after(async () => {
      await h.close();
      upstream.close();
    });

    const auditOf = (event: string) => h.audit.filter((l) => l.includes(`event=${event}`));

    describe('GET /api/v1/upstreams', () => {
      it('lists the sign-in buttons without credentials, leaving hidden upstreams and every setting out', async () => {
        const res = await request(h.app).get('/api/v1/upstreams').expect(200).expect('cache-control', 'no-store');
        assert.deepEqual(UpstreamButtonList.parse(res.body), {
          upstreams: [
            { id: 'corp', name: 'Corp SSO', type: 'oidc' },
            { id: 'down', name: 'Down SSO', type: 'oidc' },
          ],
        });
        assert.deepEqual(Object.keys(res.body.upstreams[0]).sort(), ['id', 'name', 'type']);
      });
    });

    describe('GET /api/v1/me/upstreams', () => {
      it('answers the links of the caller, named after their upstream, or its id once it is gone', async () => {
        const agent = await portalBrowser(h);
        assert.deepEqual(UpstreamLinkList.parse((await agent.get(MINE).expect(200)).body), { links: [] });
        await link(h, 'corp');
        await link(h, 'retired');
        const { links } = UpstreamLinkList.parse((await agent.get(MINE).expect(200)).body);
        assert.deepEqual(
          links.map((l) => [l.upstreamId, l.upstreamName, l.subject, l.email]),
          [
            ['corp', 'Corp SSO', 'corp-sub', 'alice@example.org'],
            ['retired', 'retired', 'retired-sub', 'alice@example.org'],
          ],
        );
        // Any principal with profile:read may read them, e.g. a personal token.
        const token = await apiToken(h, ALICE_ID, ['profile:read']);
        assert.deepEqual(UpstreamLinkList.parse((await bearer(h, token).get(MINE).expect(200)).body).links, links);
        await h.ctx.storage.upstreams.deleteLink(ALICE_ID, 'corp');
        await h.ctx.storage.upstreams.deleteLink(ALICE_ID, 'retired');
      });

      it('needs credentials', async () => {
        const res = await request(h.app).get(MINE).expect(401);
        assert.equal(errorOf(res).code, 'unauthenticated');
      });
    });

    describe('POST /api/v1/me/upstreams/:id/link', () => {
      it('answers the upstream authorization URL with state, nonce and PKCE S256 from a fresh session', async () => {
        const agent = await portalBrowser(h);
        const res = await agent.post(`${MINE}/corp/link`).set(csrf).send({}).expect(200);
        const url = new URL(UpstreamRedirect.parse(res.body).location);
        assert.equal(`${url.origin}${url.pathname}`, `${base}/authorize`);
        assert.equal(url.searchParams.get('client_id'), 'gatehouse');
        assert.equal(url.searchParams.get('redirect_uri'), 'http://localhost:4000/oauth2/upstream/corp/callback');
        assert.equal(url.searchParams.get('response_type'), 'code');
        assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
        assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.ok((url.searchParams.get('state') ?? '').length >= 32);
        assert.ok((url.searchParams.get('nonce') ?? '').length >= 32);
        // The link is made by the callback, not here.
        assert.deepEqual(await linkIds(h), []);
        assert.ok(!JSON.stringify(res.body).includes('upstream-secret-corp'));
      });

      it('links a hidden upstream too: hidden only leaves out its button', async () => {
        const agent = await portalBrowser(h);
        const res = await agent.post(`${MINE}/quiet/link`).set(csrf).expect(200);
        assert.match(UpstreamRedirect.parse(res.body).location, new RegExp(`^${base}/authorize\\?`));
      });

      it('answers 404 for an unknown upstream and for an id that cannot be one', async () => {
        const agent = await portalBrowser(h);
        for (const id of ['nope', 'Not%20An%20Id']) {
          const res = await agent.post(`${MINE}/${id}/link`).set(csrf).send({}).expect(404);
          assert.equal(errorOf(res).code, 'not_found');
        }
      });

      it('refuses a bearer token with session_required, whatever its scopes, and audits it', async () => {
        const token = await apiToken(h, ALICE_ID, ['profile:write']);
        const res = await bearer(h, token).post(`${MINE}/corp/link`, {}).expect(403);
        assert.equal(errorOf(res).code, 'session_required');
        assert.match(errorOf(res).message, /linked sign-ins/i);
        const refused = auditOf('upstream_failure').at(-1) ?? '';
        assert.match(refused, /via=api_token/);
        assert.match(refused, /action=upstream_link/);
        assert.match(refused, /reason=session_required/);
        assert.match(refused, /upstream=corp/);
        assert.deepEqual(auditOf('mfa_change_refused'), []);
      });

      it('refuses a token with only profile:read as insufficient_scope', async () => {
        const token = await apiToken(h, ALICE_ID, ['profile:read']);
        const res = await bearer(h, token).post(`${MINE}/corp/link`, {}).expect(403);
        assert.equal(errorOf(res).code, 'insufficient_scope');
      });

      it('refuses a cookie call without the CSRF header', async () => {
        const agent = await portalBrowser(h);
        const res = await agent.post(`${MINE}/corp/link`).send({}).expect(403);
        assert.equal(errorOf(res).code, 'csrf_rejected');
      });

      it('asks a session that signed in a while ago for the password, and takes it', async () => {
        const agent = await portalBrowser(h);
        h.clock.advance(TEN_MINUTES);
        const stale = await agent.post(`${MINE}/corp/link`).set(csrf).send({}).expect(403);
        assert.equal(errorOf(stale).code, 'reauthentication_required');
        assert.match(auditOf('upstream_failure').at(-1) ?? '', /reason=reauthentication_required/);
        const wrong = await agent.post(`${MINE}/corp/link`).set(csrf).send({ password: 'not-the-password' }).expect(401);
        assert.equal(errorOf(wrong).code, 'invalid_credentials');
        assert.match(auditOf('reauthentication_failure').at(-1) ?? '', /purpose=upstream_link/);
        const ok = await agent.post(`${MINE}/corp/link`).set(csrf).send({ password: PASSWORD }).expect(200);
        assert.match(UpstreamRedirect.parse(ok.body).location, new RegExp(`^${base}/authorize\\?`));
        // The password made the session fresh again.
        await agent.post(`${MINE}/corp/link`).set(csrf).send({}).expect(200);
      });

      it('refuses bad bodies with the fields at fault', async () => {
        const agent = await portalBrowser(h);
        for (const [body, field] of [
          [{ password: '' }, 'password'],
          [{ password: 5 }, 'password'],
          [{ code: 'x'.repeat(65) }, 'code'],
          [{ remember: true }, ''],
        ] as const) {
          const res = await agent.post(`${MINE}/corp/link`).set(csrf).send(body).expect(400);
          assert.equal(errorOf(res).code, 'validation_failed');
          const fields = (errorOf(res).details as { field: string }[]).map((d) => d.field);
          assert.ok(fields.includes(field), `${JSON.stringify(body)}: ${JSON.stringify(errorOf(res).details)}`);
        }
      });

      it('answers 409 already_linked when the account has a link to this upstream', async () => {
        await link(h, 'corp');
        try {
          const agent = await portalBrowser(h);
          const res = await agent.post(`${MINE}/corp/link`).set(csrf).send({}).expect(409);
          assert.equal(errorOf(res).code, 'already_linked');
          assert.match(errorOf(res).message, /Corp SSO/);
        } finally {
          await h.ctx.storage.upstreams.deleteLink(ALICE_ID, 'corp');
        }
      });

      it('answers 502 upstream_unavailable when the upstream cannot be reached, and audits it', async () => {
        const agent = await portalBrowser(h);
        const res = await agent.post(`${MINE}/down/link`).set(csrf).send({}).expect(502);
        assert.equal(errorOf(res).code, 'upstream_unavailable');
        assert.match(errorOf(res).message, /could not be reached/);
        const failure = auditOf('upstream_failure').at(-1) ?? '';
        assert.match(failure, /upstream=down/);
        assert.match(failure, /reason=unreachable/);
      });
    });

    describe('DELETE /api/v1/me/upstreams/:id', () => {
      it('removes the link of a user who has a password, and audits upstream_unlink', async () => {
        await link(h, 'corp');
        const agent = await portalBrowser(h);
        await agent.delete(`${MINE}/corp`).set(csrf).expect(204);
        assert.deepEqual(await linkIds(h), []);
        const line = auditOf('upstream_unlink').at(-1) ?? '';
        assert.match(line, new RegExp(`user=${ALICE_ID}`));
        assert.match(line, /upstream=corp/);
        assert.match(line, /by=user/);
      });

      it('answers 404 when there is no such link', async () => {
        const agent = await portalBrowser(h);
        for (const id of ['corp', 'nope', 'Not%20An%20Id']) {
          const res = await agent.delete(`${MINE}/${id}`).set(csrf).expect(404);
          assert.equal(errorOf(res).code, 'not_found');
        }
      });

      it('refuses a bearer token with session_required, and keeps the link', async () => {
        await link(h, 'corp');
        try {
          const token = await apiToken(h, ALICE_ID, ['profile:write']);
          const res = await bearer(h, token).delete(`${MINE}/corp`).expect(403);
          assert.equal(errorOf(res).code, 'session_required');
          assert.match(auditOf('upstream_failure').at(-1) ?? '', /action=upstream_unlink/);
          assert.deepEqual(await linkIds(h), ['corp']);
        } finally {
          await h.ctx.storage.upstreams.deleteLink(ALICE_ID, 'corp');
        }
      });

      it('asks a session that signed in a while ago for the password', async () => {
        await link(h, 'corp');
        const agent = await portalBrowser(h);
        h.clock.advance(TEN_MINUTES);
        const stale = await agent.delete(`${MINE}/corp`).set(csrf).expect(403);
        assert.equal(errorOf(stale).code, 'reauthentication_required');
        assert.deepEqual(await linkIds(h), ['corp']);
        await agent.delete(`${MINE}/corp`).set(csrf).send({ password: PASSWORD }).expect(204);
        assert.deepEqual(await linkIds(h), []);
      });

      it('refuses with 409 last_sign_in_method to remove the only way to sign in', async () => {
        const user = await h.ctx.identity.directory.createUser({
          username: 'fed-only',
          email: null,
          name: null,
          password: 'fed-only-password-1',
          isAdmin: false,
          groupIds: [],
        });
        const agent = await portalBrowser(h, 'fed-only', 'fed-only-password-1');
        // As an account made at an upstream sign-in: no password.
        await h.ctx.storage.users.setPasswordHash(user.id, '', h.clock.now());
        assert.equal(await h.ctx.identity.directory.hasPassword(user.id), false);
        await link(h, 'corp', user.id, 'fed-corp');
        await link(h, 'retired', user.id, 'fed-retired');

        // A link to an upstream that is no longer configured is no way to sign in.
        const res = await agent.delete(`${MINE}/corp`).set(csrf).expect(409);
        assert.equal(errorOf(res).code, 'last_sign_in_method');
        assert.deepEqual(await linkIds(h, user.id), ['corp', 'retired']);

        // With another usable upstream it may go, and then that one is the last.
        await link(h, 'down', user.id, 'fed-down');
        await agent.delete(`${MINE}/corp`).set(csrf).expect(204);
        const last = await agent.delete(`${MINE}/down`).set(csrf).expect(409);
        assert.equal(errorOf(last).code, 'last_sign_in_method');
        // The one that leads nowhere may always go.
        await agent.delete(`${MINE}/retired`).set(csrf).expect(204);
        assert.deepEqual(await linkIds(h, user.id), ['down']);
      });

      it('refuses bad bodies with the fields at fault', async () => {
        const agent = await portalBrowser(h);
        const res = await agent.delete(`${MINE}/corp`).set(csrf).send({ password: '' }).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.deepEqual(
          (errorOf(res).details as { field: string }[]).map((d) => d.field),
          ['password'],
        );
      });
    });
  });
}

if (BACKEND === 'openbao') {
  describe('me: linked sign-ins on OpenBao', () => {
    let h: Harness;
    let agent: Agent;
    before(async () => {
      h = await harness();
      agent = await portalBrowser(h);
    });
    after(() => h.close());

    it('answers 501 not_supported on every endpoint', async () => {
      const calls = [
        request(h.app).get('/api/v1/upstreams'),
        agent.get(MINE),
        agent.post(`${MINE}/corp/link`).set(csrf).send({}),
        agent.delete(`${MINE}/corp`).set(csrf),
      ];
      for (const call of calls) {
        const res = await call;
        assert.equal(res.status, 501, JSON.stringify(res.body));
        assert.equal(errorOf(res).code, 'not_supported');
      }
    });

    it('says a user has a password exactly when they have a userpass alias', async () => {
      assert.equal(await h.ctx.identity.directory.hasPassword(ALICE_ID), true);
      assert.equal(await h.ctx.identity.directory.hasPassword('00000000-0000-4000-8000-000000000000'), false);
    });
  });
}
