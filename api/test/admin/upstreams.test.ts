import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { AdminUpstream, AdminUpstreamList, UpstreamLinkList, type CreateUpstreamRequest } from '@gatehouse/shared';
import { adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import { ALICE_ID, BACKEND, csrf, harness, type Agent, type Harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/upstreams';
const CONFIG_SECRET = 'config-upstream-secret-0123';
const SECRET = 'admin-upstream-secret-4567';
const ISSUER = 'https://sso.example.org';

const errorOf = (res: { body: unknown }) => (res.body as { error: { code: string; message: string; details?: unknown } }).error;
const fieldsOf = (res: { body: unknown }) => ((errorOf(res).details ?? []) as { field: string }[]).map((d) => d.field);

const body = (extra: Partial<CreateUpstreamRequest> = {}): CreateUpstreamRequest => ({
  id: 'wiki-sso',
  name: 'Wiki SSO',
  issuer: ISSUER,
  client_id: 'gatehouse',
  ...extra,
});

if (BACKEND === 'sqlite') {
  describe('admin: upstream identity providers', () => {
    let h: Harness;
    let admin: Agent;
    before(async () => {
      h = await harness({
        upstreams: [{ id: 'corp', name: 'Corp SSO', issuer: 'https://corp.example.org', client_id: 'gh', client_secret: CONFIG_SECRET }],
      });
      admin = await adminBrowser(h);
    });
    after(() => h.close());

    const auditOf = (event: string) => h.audit.filter((l) => l.includes(`event=${event}`));
    const create = async (extra: Partial<CreateUpstreamRequest> = {}): Promise<AdminUpstream> => {
      const res = await admin.post(PATH).set(csrf).send(body(extra));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return AdminUpstream.parse(res.body);
    };

    it('lists the configured upstreams read-only, with their callback URL and without their secret', async () => {
      const res = await admin.get(PATH).expect(200);
      const { upstreams } = AdminUpstreamList.parse(res.body);
      const corp = upstreams.find((u) => u.id === 'corp');
      assert.ok(corp);
      assert.equal(corp.source, 'config');
      assert.equal(corp.hasSecret, true);
      assert.equal(corp.callbackUrl, 'http://localhost:4000/oauth2/upstream/corp/callback');
      assert.deepEqual(corp.scopes, ['openid', 'email', 'profile']);
      assert.ok(!res.text.includes(CONFIG_SECRET), 'the secret is never answered');
      assert.ok(!('client_secret' in res.body.upstreams[0]));
    });

    it('adds an upstream with its secret sealed, answers it without the secret, and audits it with the admin', async () => {
      const res = await admin
        .post(PATH)
        .set(csrf)
        .send(body({ client_secret: SECRET, provision: 'create', link: 'verified_email', scopes: 'openid email' }))
        .expect(201);
      const created = AdminUpstream.parse(res.body);
      const now = h.clock.now();
      assert.deepEqual(created, {
        id: 'wiki-sso',
        name: 'Wiki SSO',
        type: 'oidc',
        issuer: ISSUER,
        client_id: 'gatehouse',
        scopes: ['openid', 'email'],
        link: 'verified_email',
        provision: 'create',
        claims: {},
        groups_prefix: '',
        sync_groups: false,
        require_mfa: false,
        allowed_domains: [],
        hidden: false,
        source: 'admin',
        hasSecret: true,
        callbackUrl: 'http://localhost:4000/oauth2/upstream/wiki-sso/callback',
        createdAt: now,
        updatedAt: now,
      });
      assert.ok(!res.text.includes(SECRET));
      const stored = await h.ctx.storage.upstreams.find('wiki-sso');
      assert.ok(stored?.sealedSecret && stored.sealedSecret !== SECRET);
      assert.equal(h.ctx.box.open(stored.sealedSecret), SECRET);
      assert.ok(!JSON.stringify(stored.settings).includes(SECRET));
      // The registry has it at once: sign-in buttons and reads.
      assert.ok(h.ctx.upstreams.get('wiki-sso'));
      const buttons = await request(h.app).get('/api/v1/upstreams').expect(200);
      assert.ok(buttons.body.upstreams.some((b: { id: string }) => b.id === 'wiki-sso'));
      const fetched = await admin.get(`${PATH}/wiki-sso`).expect(200);
      assert.deepEqual(AdminUpstream.parse(fetched.body), created);
      assert.ok(!fetched.text.includes(SECRET));

      const line = auditOf('upstream_create').at(-1) ?? '';
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.match(line, /upstream=wiki-sso/);
      assert.ok(
        h.audit.every((l) => !l.includes(SECRET)),
        'the secret is never logged',
      );
    });

    it('refuses an id that is taken, by an admin one or a configured one', async () => {
      for (const id of ['wiki-sso', 'corp']) {
        const res = await admin.post(PATH).set(csrf).send(body({ id })).expect(409);
        assert.equal(errorOf(res).code, 'conflict');
        assert.deepEqual(fieldsOf(res), ['id']);
      }
      assert.equal(h.ctx.upstreams.get('corp')?.source, 'config');
    });

    it('refuses bad bodies with the fields at fault', async () => {
      const cases: [object, string][] = [
        [{ id: 'Bad Id!' }, 'id'],
        [{ name: '' }, 'name'],
        [{ issuer: undefined }, 'issuer'],
        [{ issuer: 'http://sso.example.org' }, 'issuer'],
        [{ issuer: 'https://sso.example.org/?tenant=1' }, 'issuer'],
        [{ type: 'myspace' }, 'type'],
        [{ type: 'github' }, 'issuer'],
        [{ type: 'microsoft', issuer: undefined, tenant: '6f1c1f0e-8f4b-4a44-9d4e-2a1f0c3b5e7d', link: 'verified_email' }, 'link'],
        [{ link: 'email' }, 'link'],
        [{ provision: 'always' }, 'provision'],
        [{ allowed_domains: ['not a domain'] }, 'allowed_domains.0'],
        [{ client_id: '' }, 'client_id'],
        [{ client_secret: '' }, 'client_secret'],
        [{ client_secret_file: '/etc/secret' }, ''],
      ];
      for (const [extra, field] of cases) {
        const res = await admin
          .post(PATH)
          .set(csrf)
          .send({ ...body({ id: 'bad-one' }), ...extra })
          .expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.ok(fieldsOf(res).includes(field), `${JSON.stringify(extra)}: ${JSON.stringify(errorOf(res).details)}`);
      }
      assert.equal(h.ctx.upstreams.get('bad-one'), undefined);
      assert.equal(await h.ctx.storage.upstreams.find('bad-one'), undefined);
    });

    it('answers 404 for an unknown upstream on every verb', async () => {
      for (const res of [
        await admin.get(`${PATH}/nope`),
        await admin.patch(`${PATH}/nope`).set(csrf).send({ name: 'X' }),
        await admin.delete(`${PATH}/nope`).set(csrf),
        await admin.get(`${PATH}/Not%20An%20Id`),
      ]) {
        assert.equal(res.status, 404);
        assert.equal(errorOf(res).code, 'not_found');
      }
    });

    it('changes only the fields named, keeps the secret unless given, replaces or removes it', async () => {
      await create({ id: 'patchy', client_secret: SECRET, provision: 'create', require_mfa: true });
      h.clock.advance(5);
      const renamed = AdminUpstream.parse((await admin.patch(`${PATH}/patchy`).set(csrf).send({ name: 'Patchy SSO' }).expect(200)).body);
      assert.equal(renamed.name, 'Patchy SSO');
      assert.equal(renamed.provision, 'create', 'a field not named keeps its value');
      assert.equal(renamed.require_mfa, true);
      assert.equal(renamed.hasSecret, true);
      assert.equal(renamed.updatedAt, h.clock.now());
      assert.equal(h.ctx.box.open((await h.ctx.storage.upstreams.find('patchy'))!.sealedSecret!), SECRET);
      assert.equal(h.ctx.upstreams.get('patchy')?.settings.name, 'Patchy SSO');
      const line = auditOf('upstream_update').at(-1) ?? '';
      assert.match(line, /upstream=patchy/);
      assert.match(line, /fields=name/);
      assert.match(line, /secret=kept/);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));

      const replaced = await admin.patch(`${PATH}/patchy`).set(csrf).send({ client_secret: 'another-secret-89' }).expect(200);
      assert.ok(!replaced.text.includes('another-secret-89'));
      assert.equal(h.ctx.upstreams.get('patchy')?.secret, 'another-secret-89');
      assert.match(auditOf('upstream_update').at(-1) ?? '', /secret=replaced/);

      const removed = AdminUpstream.parse((await admin.patch(`${PATH}/patchy`).set(csrf).send({ client_secret: null }).expect(200)).body);
      assert.equal(removed.hasSecret, false);
      assert.equal((await h.ctx.storage.upstreams.find('patchy'))?.sealedSecret, null);
      assert.match(auditOf('upstream_update').at(-1) ?? '', /secret=removed/);
      assert.ok(h.audit.every((l) => !l.includes(SECRET) && !l.includes('another-secret-89')));
    });

    it('clears an optional setting sent as null, and a new upstream is discovered with the change', async () => {
      await create({ id: 'clearing', token_endpoint: 'https://sso.example.org/internal/token', scopes: 'openid email' });
      const before = h.ctx.upstreams.get('clearing')!;
      const cleared = AdminUpstream.parse(
        (await admin.patch(`${PATH}/clearing`).set(csrf).send({ token_endpoint: null, scopes: null }).expect(200)).body,
      );
      assert.equal(cleared.token_endpoint, undefined, 'the override is gone');
      assert.deepEqual(cleared.scopes, ['openid', 'email', 'profile'], "scopes back to the type's default");
      assert.equal((await h.ctx.storage.upstreams.find('clearing'))?.settings.token_endpoint, undefined);
      assert.notEqual(h.ctx.upstreams.get('clearing'), before, 'the registry holds a new entry, so discovery runs again');

      const github = AdminUpstream.parse(
        (await admin.patch(`${PATH}/clearing`).set(csrf).send({ type: 'github', issuer: null }).expect(200)).body,
      );
      assert.equal(github.type, 'github');
      assert.equal(github.issuer, undefined);
      const res = await admin.patch(`${PATH}/clearing`).set(csrf).send({ client_id: null }).expect(400);
      assert.deepEqual(fieldsOf(res), ['client_id'], 'a required setting cannot be cleared');
    });

    it('refuses a change that leaves the upstream invalid, or names unknown fields, and keeps it as it was', async () => {
      await create({ id: 'strict' });
      for (const [change, field] of [
        [{ type: 'github' }, 'issuer'],
        [{ link: 'email' }, 'link'],
        [{ id: 'renamed' }, ''],
        [{ client_secret_file: '/etc/x' }, ''],
        [{ issuer: 'ftp://sso.example.org' }, 'issuer'],
      ] as const) {
        const res = await admin.patch(`${PATH}/strict`).set(csrf).send(change).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.ok(fieldsOf(res).includes(field), `${JSON.stringify(change)}: ${JSON.stringify(errorOf(res).details)}`);
      }
      const kept = AdminUpstream.parse((await admin.get(`${PATH}/strict`).expect(200)).body);
      assert.equal(kept.type, 'oidc');
      assert.equal(kept.issuer, ISSUER);
    });

    it('refuses to change or delete a configured upstream with 409 read_only', async () => {
      const patched = await admin.patch(`${PATH}/corp`).set(csrf).send({ name: 'Mine now' }).expect(409);
      assert.equal(errorOf(patched).code, 'read_only');
      assert.match(errorOf(patched).message, /configuration/);
      const deleted = await admin.delete(`${PATH}/corp`).set(csrf).expect(409);
      assert.equal(errorOf(deleted).code, 'read_only');
      assert.equal(h.ctx.upstreams.get('corp')?.settings.name, 'Corp SSO');
    });

    it('removes an admin-made upstream and audits it', async () => {
      await create({ id: 'short-lived' });
      await admin.delete(`${PATH}/short-lived`).set(csrf).expect(204);
      assert.equal(h.ctx.upstreams.get('short-lived'), undefined);
      await admin.get(`${PATH}/short-lived`).expect(404);
      const buttons = await request(h.app).get('/api/v1/upstreams').expect(200);
      assert.ok(!buttons.body.upstreams.some((b: { id: string }) => b.id === 'short-lived'));
      const line = auditOf('upstream_delete').at(-1) ?? '';
      assert.match(line, /upstream=short-lived/);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
    });

    it('refuses non-admins, tokens without the admin scope, and anonymous callers', async () => {
      const alice = await portalBrowser(h);
      for (const res of [
        await alice.get(PATH),
        await alice
          .post(PATH)
          .set(csrf)
          .send(body({ id: 'alices' })),
        await alice.get('/api/v1/admin/users/alice/upstreams'),
      ]) {
        assert.equal(res.status, 403);
        assert.equal(errorOf(res).code, 'insufficient_scope');
      }
      const reader = await apiToken(h, await adminId(h), ['admin:read']);
      assert.equal((await bearer(h, reader).get(PATH)).status, 200);
      const write = await bearer(h, reader)
        .post(PATH, body({ id: 'by-reader' }))
        .expect(403);
      assert.equal(errorOf(write).code, 'insufficient_scope');
      assert.equal((await request(h.app).get(PATH)).status, 401);
      assert.equal(h.ctx.upstreams.get('alices'), undefined);
      assert.equal(h.ctx.upstreams.get('by-reader'), undefined);
    });

    describe("a user's linked sign-ins", () => {
      const linkAlice = (upstreamId: string) =>
        h.ctx.storage.upstreams.insertLink({
          issuer: ISSUER,
          subject: `alice-at-${upstreamId}`,
          upstreamId,
          userId: ALICE_ID,
          email: 'alice@example.org',
          createdAt: h.clock.now(),
        });

      it('lists them by user id or username, and removes one with an audit of the admin', async () => {
        await linkAlice('corp');
        const byName = UpstreamLinkList.parse((await admin.get('/api/v1/admin/users/alice/upstreams').expect(200)).body);
        assert.deepEqual(
          byName.links.map((l) => [l.upstreamId, l.upstreamName, l.subject]),
          [['corp', 'Corp SSO', 'alice-at-corp']],
        );
        assert.deepEqual((await admin.get(`/api/v1/admin/users/${ALICE_ID}/upstreams`).expect(200)).body, byName);

        await admin.delete('/api/v1/admin/users/alice/upstreams/corp').set(csrf).expect(204);
        assert.deepEqual(await h.ctx.storage.upstreams.linksOf(ALICE_ID), []);
        const line = auditOf('upstream_unlink').at(-1) ?? '';
        assert.match(line, new RegExp(`user=${ALICE_ID}`));
        assert.match(line, new RegExp(`actor=${await adminId(h)}`));
        assert.match(line, /upstream=corp/);
        assert.match(line, /by=admin/);
      });

      it('answers 404 for an unknown user or link', async () => {
        for (const res of [
          await admin.get('/api/v1/admin/users/nobody/upstreams'),
          await admin.delete('/api/v1/admin/users/nobody/upstreams/corp').set(csrf),
          await admin.delete('/api/v1/admin/users/alice/upstreams/corp').set(csrf),
          await admin.delete('/api/v1/admin/users/alice/upstreams/Not%20An%20Id').set(csrf),
        ]) {
          assert.equal(res.status, 404);
          assert.equal(errorOf(res).code, 'not_found');
        }
      });
    });
  });
}

if (BACKEND === 'openbao') {
  describe('admin: upstream identity providers on OpenBao', () => {
    let h: Harness;
    let admin: Agent;
    before(async () => {
      h = await harness();
      admin = await adminBrowser(h);
    });
    after(() => h.close());

    it('answers 501 not_supported on every endpoint', async () => {
      const calls = [
        admin.get(PATH),
        admin.post(PATH).set(csrf).send(body()),
        admin.get(`${PATH}/corp`),
        admin.patch(`${PATH}/corp`).set(csrf).send({ name: 'X' }),
        admin.delete(`${PATH}/corp`).set(csrf),
        admin.get('/api/v1/admin/users/alice/upstreams'),
        admin.delete('/api/v1/admin/users/alice/upstreams/corp').set(csrf),
      ];
      for (const call of calls) {
        const res = await call;
        assert.equal(res.status, 501, JSON.stringify(res.body));
        assert.equal(errorOf(res).code, 'not_supported');
      }
      assert.equal(await h.ctx.storage.upstreams.find('wiki-sso'), undefined);
    });
  });
}
