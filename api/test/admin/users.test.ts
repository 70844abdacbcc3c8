import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { AdminUser, AdminUserList, CreatedUser, TokenResponse, type CreateUserRequest } from '@gatehouse/shared';
import { DirectoryConflict } from '../../src/identity/provider.js';
import { ADMIN_PASSWORD, adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import {
  PASSWORD,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  refreshWith,
  type Agent,
  type Harness,
  ALICE_ID,
  describeManagingUsers,
  itManagingUsers,
} from '../helpers/harness.js';
import { enrolTotp, portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/users';
const NEW_PASSWORD = 'a-brand-new-password-42';

function errorOf(res: { body: unknown }): { code: string; message: string; details?: unknown } {
  return (res.body as { error: { code: string; message: string; details?: unknown } }).error;
}

async function create(agent: Agent, body: CreateUserRequest): Promise<CreatedUser> {
  const res = await agent.post(PATH).set(csrf).send(body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return CreatedUser.parse(res.body);
}

/** The audit lines of an event, as logfmt. */
const auditOf = (h: Harness, event: string) => h.audit.filter((l) => l.includes(`event=${event} `));

/** Signs in to the portal; answers the HTTP status. */
async function signInStatus(h: Harness, username: string, password: string): Promise<number> {
  return (await browser(h).post('/api/v1/session').set(csrf).send({ username, password })).status;
}

describe('admin: users', () => {
  let h: Harness;
  let admin: Agent;
  before(async () => {
    h = await harness();
    admin = await adminBrowser(h);
  });
  after(() => h.close());

  describe('access', () => {
    it('refuses a signed-in user who is not an admin with insufficient_scope', async () => {
      const alice = await portalBrowser(h);
      const list = await alice.get(PATH).expect(403);
      assert.equal(errorOf(list).code, 'insufficient_scope');
      const write = await alice.post(PATH).set(csrf).send({ username: 'mallory', password: NEW_PASSWORD }).expect(403);
      assert.equal(errorOf(write).code, 'insufficient_scope');
      await alice.post(`${PATH}/${ALICE_ID}/disable`).set(csrf).expect(403);
      assert.equal(await h.ctx.storage.users.findByLogin('mallory'), undefined);
    });

    it('lets an admin:read token read but not change anything', async () => {
      const token = await apiToken(h, await adminId(h), ['admin:read']);
      const api = bearer(h, token);
      AdminUserList.parse((await api.get(PATH).expect(200)).body);
      AdminUser.parse((await api.get(`${PATH}/alice`).expect(200)).body);
      const res = await api.post(PATH, { username: 'readonly-made', password: NEW_PASSWORD }).expect(403);
      assert.equal(errorOf(res).code, 'insufficient_scope');
      assert.match(res.headers['www-authenticate'] ?? '', /scope="admin:write"/);
      await api.patch(`${PATH}/alice`, { name: 'Changed' }).expect(403);
      await api.delete(`${PATH}/alice`).expect(403);
      assert.equal((await h.ctx.storage.users.findById(ALICE_ID))?.name, 'Alice Liddell');
    });

    itManagingUsers('lets an admin:write token change users', async () => {
      const api = bearer(h, await apiToken(h, await adminId(h), ['admin:write']));
      const res = await api.post(PATH, { username: 'token-made', password: NEW_PASSWORD }).expect(201);
      assert.equal(CreatedUser.parse(res.body).user.username, 'token-made');
    });

    it('refuses writes from a cookie session without the CSRF header', async () => {
      const res = await admin.post(PATH).send({ username: 'no-csrf', password: NEW_PASSWORD }).expect(403);
      assert.equal(errorOf(res).code, 'csrf_rejected');
      assert.equal(await h.ctx.storage.users.findByLogin('no-csrf'), undefined);
    });
  });

  describeManagingUsers('create', () => {
    it('creates a user with a password who can then sign in, audited with the acting admin', async () => {
      const { user, passwordLink } = await create(admin, {
        username: 'bob',
        email: 'bob@example.org',
        name: 'Bob Builder',
        password: NEW_PASSWORD,
      });
      assert.equal(passwordLink, undefined);
      assert.deepEqual(user, {
        id: user.id,
        username: 'bob',
        email: 'bob@example.org',
        emailVerified: false,
        name: 'Bob Builder',
        isAdmin: false,
        disabled: false,
        totpEnabled: false,
        lastLoginAt: null,
        createdAt: h.clock.now(),
        groups: [],
      });
      assert.equal(await signInStatus(h, 'bob', NEW_PASSWORD), 200);
      const line = auditOf(h, 'user_create').find((l) => l.includes(`user=${user.id}`));
      assert.ok(line, 'user_create is audited');
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.ok(!h.audit.some((l) => l.includes(NEW_PASSWORD)), 'the password is never logged');
    });

    it('without a password answers a one-time password link, and the account has no usable password yet', async () => {
      const { user, passwordLink } = await create(admin, { username: 'linked' });
      assert.ok(passwordLink);
      assert.match(passwordLink.url, /^http:\/\/localhost:4000\/reset-password#[A-Za-z0-9_-]{43}$/);
      assert.equal(passwordLink.expiresAt, h.clock.now() + h.ctx.config.passwordLinkTtl);
      assert.equal(await signInStatus(h, 'linked', 'anything-at-all-123'), 401);
      assert.ok(auditOf(h, 'password_link_create').some((l) => l.includes(`user=${user.id}`)));
    });

    it('puts the new user into the given groups (by id) and makes admins', async () => {
      const ops = (await h.ctx.identity.directory.findGroupsByName(['ops']))[0]!;
      const { user } = await create(admin, { username: 'operator', password: NEW_PASSWORD, groups: [ops.id], isAdmin: true });
      assert.deepEqual(user.groups, [{ id: ops.id, name: 'ops' }]);
      assert.equal(user.isAdmin, true);
    });

    it('refuses an unknown group id as a validation failure of groups, creating nothing', async () => {
      const res = await admin
        .post(PATH)
        .set(csrf)
        .send({ username: 'ghost', password: NEW_PASSWORD, groups: ['no-such-group'] })
        .expect(400);
      assert.equal(errorOf(res).code, 'validation_failed');
      assert.deepEqual(
        (errorOf(res).details as { field: string }[]).map((d) => d.field),
        ['groups'],
      );
      assert.equal(await h.ctx.storage.users.findByLogin('ghost'), undefined);
    });

    it('refuses a taken username (in any case) or email with 409 conflict naming the field', async () => {
      const name = await admin.post(PATH).set(csrf).send({ username: 'ALICE', password: NEW_PASSWORD }).expect(409);
      assert.equal(errorOf(name).code, 'conflict');
      assert.match(errorOf(name).message, /username is taken/);
      assert.deepEqual((errorOf(name).details as { field: string }[])[0]?.field, 'username');
      const email = await admin.post(PATH).set(csrf).send({ username: 'alice2', email: 'Alice@Example.org' }).expect(409);
      assert.match(errorOf(email).message, /email address belongs to another account/);
      assert.equal(await h.ctx.storage.users.findByLogin('alice2'), undefined);
    });

    it('refuses bad input field by field', async () => {
      const res = await admin
        .post(PATH)
        .set(csrf)
        .send({ username: 'has space', email: 'not-an-email', password: 'short', extra: 1 })
        .expect(400);
      assert.equal(errorOf(res).code, 'validation_failed');
      const fields = (errorOf(res).details as { field: string }[]).map((d) => d.field);
      for (const f of ['username', 'email', 'password']) assert.ok(fields.includes(f), `${f} in ${fields.join(',')}`);
    });
  });

  describeManagingUsers('list and read', () => {
    before(async () => {
      for (const [username, name, email] of [
        ['zed-one', 'Searchable Person', null],
        ['zed-two', null, 'findme@example.net'],
        ['zed-three', null, null],
      ] as const) {
        await create(admin, { username, name, email, password: NEW_PASSWORD });
      }
    });

    it('lists users by username with a total, and pages with limit and offset', async () => {
      const all = AdminUserList.parse((await admin.get(PATH).expect(200)).body);
      assert.equal(all.total, all.users.length);
      assert.equal(all.limit, 50);
      assert.equal(all.offset, 0);
      const names = all.users.map((u) => u.username);
      assert.deepEqual(
        names,
        [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)),
      );
      const page = AdminUserList.parse((await admin.get(`${PATH}?limit=2&offset=1`).expect(200)).body);
      assert.equal(page.total, all.total);
      assert.deepEqual(
        page.users.map((u) => u.username),
        names.slice(1, 3),
      );
      const alice = all.users.find((u) => u.username === 'alice');
      assert.deepEqual(
        alice?.groups.map((g) => g.name),
        ['ops', 'staff'],
      );
    });

    it('searches username, name and email by substring, case-insensitively', async () => {
      const search = async (q: string) =>
        AdminUserList.parse((await admin.get(`${PATH}?q=${encodeURIComponent(q)}`).expect(200)).body).users.map((u) => u.username);
      assert.deepEqual(await search('ZED-'), ['zed-one', 'zed-three', 'zed-two']);
      assert.deepEqual(await search('searchable'), ['zed-one']);
      assert.deepEqual(await search('findme@'), ['zed-two']);
      assert.deepEqual(await search('%'), [], 'LIKE wildcards match only themselves');
      assert.deepEqual(await search('_'), []);
      const paged = AdminUserList.parse((await admin.get(`${PATH}?q=zed&limit=1&offset=2`).expect(200)).body);
      assert.equal(paged.total, 3);
      assert.deepEqual(
        paged.users.map((u) => u.username),
        ['zed-two'],
      );
    });

    it('refuses bad paging', async () => {
      for (const q of ['limit=0', 'limit=201', 'offset=-1', 'limit=abc', 'q=a&q=b']) {
        const res = await admin.get(`${PATH}?${q}`).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed', q);
      }
    });

    it('reads a user by id or by exact username in any case, never by a partial one', async () => {
      const byId = AdminUser.parse((await admin.get(`${PATH}/${ALICE_ID}`).expect(200)).body);
      assert.equal(byId.username, 'alice');
      assert.deepEqual(AdminUser.parse((await admin.get(`${PATH}/ALICE`).expect(200)).body), byId);
      const partial = await admin.get(`${PATH}/ali`).expect(404);
      assert.equal(errorOf(partial).code, 'not_found');
      await admin.get(`${PATH}/ali%25`).expect(404);
      await admin.get(`${PATH}/nobody`).expect(404);
    });

    it('records the last sign-in', async () => {
      const before = AdminUser.parse((await admin.get(`${PATH}/zed-three`).expect(200)).body);
      assert.equal(before.lastLoginAt, null);
      h.clock.advance(10);
      assert.equal(await signInStatus(h, 'zed-three', NEW_PASSWORD), 200);
      const after = AdminUser.parse((await admin.get(`${PATH}/zed-three`).expect(200)).body);
      assert.equal(after.lastLoginAt, h.clock.now());
    });
  });

  describeManagingUsers('change', () => {
    it('changes fields; a new email is unverified unless said otherwise', async () => {
      const { user } = await create(admin, { username: 'carol', email: 'carol@example.org', password: NEW_PASSWORD });
      await admin.patch(`${PATH}/carol`).set(csrf).send({ emailVerified: true }).expect(200);
      const changed = AdminUser.parse(
        (await admin.patch(`${PATH}/${user.id}`).set(csrf).send({ username: 'caroline', email: 'caroline@example.org' }).expect(200)).body,
      );
      assert.equal(changed.username, 'caroline');
      assert.equal(changed.email, 'caroline@example.org');
      assert.equal(changed.emailVerified, false);
      const verified = AdminUser.parse(
        (
          await admin
            .patch(`${PATH}/caroline`)
            .set(csrf)
            .send({ email: 'c@example.org', emailVerified: true, name: 'Caroline' })
            .expect(200)
        ).body,
      );
      assert.equal(verified.emailVerified, true);
      assert.equal(verified.name, 'Caroline');
      const promoted = AdminUser.parse((await admin.patch(`${PATH}/caroline`).set(csrf).send({ isAdmin: true }).expect(200)).body);
      assert.equal(promoted.isAdmin, true);
      assert.ok(
        auditOf(h, 'user_update').some((l) => l.includes(`user=${user.id}`) && l.includes('from=carol') && l.includes('to=caroline')),
      );
    });

    it('refuses a taken username, an empty change, bad fields and unknown users', async () => {
      const taken = await admin.patch(`${PATH}/caroline`).set(csrf).send({ username: 'Alice' }).expect(409);
      assert.equal(errorOf(taken).code, 'conflict');
      assert.equal((await h.ctx.identity.directory.resolveUser('caroline'))?.username, 'caroline');
      assert.equal(errorOf(await admin.patch(`${PATH}/caroline`).set(csrf).send({}).expect(400)).code, 'validation_failed');
      await admin.patch(`${PATH}/caroline`).set(csrf).send({ password: 'not-here-123456' }).expect(400);
      await admin.patch(`${PATH}/nobody`).set(csrf).send({ name: 'x' }).expect(404);
    });
  });

  describe('disable and enable', () => {
    itManagingUsers('disabling stops sign-in, ends sessions and revokes tokens; enabling lets them sign in again', async () => {
      const { user } = await create(admin, { username: 'dave', password: PASSWORD });
      const dave = await portalBrowser(h, 'dave', PASSWORD);
      const url = await authorize(dave, confidentialParams());
      const tokens = TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body);
      assert.ok(tokens.refresh_token);

      await admin.post(`${PATH}/dave/disable`).set(csrf).expect(204);
      assert.equal(AdminUser.parse((await admin.get(`${PATH}/dave`).expect(200)).body).disabled, true);
      assert.equal((await dave.get('/api/v1/me')).status, 401, 'the portal session ended');
      const refresh = await refreshWith(h, tokens.refresh_token).expect(400);
      assert.equal(refresh.body.error, 'invalid_grant');
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
      assert.equal(await signInStatus(h, 'dave', PASSWORD), 401);
      assert.ok(auditOf(h, 'user_disable').some((l) => l.includes(`user=${user.id}`) && l.includes(`actor=`)));

      await admin.post(`${PATH}/dave/enable`).set(csrf).expect(204);
      assert.equal(await signInStatus(h, 'dave', PASSWORD), 200);
      assert.ok(auditOf(h, 'user_enable').some((l) => l.includes(`user=${user.id}`)));
    });

    it('answers 404 for unknown users', async () => {
      await admin.post(`${PATH}/nobody/disable`).set(csrf).expect(404);
      await admin.post(`${PATH}/nobody/enable`).set(csrf).expect(404);
    });
  });

  describeManagingUsers('delete', () => {
    it('deletes by id or exact username, never by a partial name', async () => {
      const { user } = await create(admin, { username: 'erin', password: NEW_PASSWORD });
      const partial = await admin.delete(`${PATH}/ali`).set(csrf).expect(404);
      assert.equal(errorOf(partial).code, 'not_found');
      assert.ok(await h.ctx.storage.users.findById(ALICE_ID), 'alice is still there');
      await admin.delete(`${PATH}/eri`).set(csrf).expect(404);
      await admin.delete(`${PATH}/ERIN`).set(csrf).expect(204);
      assert.equal(await h.ctx.storage.users.findById(user.id), undefined);
      await admin.get(`${PATH}/${user.id}`).expect(404);
      await admin.delete(`${PATH}/${user.id}`).set(csrf).expect(404);
      assert.ok(auditOf(h, 'user_delete').some((l) => l.includes(`user=${user.id}`) && l.includes('username=erin')));
    });
  });

  describeManagingUsers('admins', () => {
    it('an admin cannot disable, delete or demote themselves', async () => {
      const self = await adminId(h);
      for (const call of [
        admin.post(`${PATH}/admin/disable`).set(csrf),
        admin.delete(`${PATH}/${self}`).set(csrf),
        admin.patch(`${PATH}/admin`).set(csrf).send({ isAdmin: false }),
      ]) {
        const res = await call;
        assert.equal(res.status, 409, JSON.stringify(res.body));
        assert.equal(errorOf(res).code, 'conflict');
        assert.match(errorOf(res).message, /your own/);
      }
      const me = AdminUser.parse((await admin.get(`${PATH}/admin`).expect(200)).body);
      assert.equal(me.isAdmin, true);
      assert.equal(me.disabled, false);
      // Other changes to oneself are fine.
      await admin.patch(`${PATH}/admin`).set(csrf).send({ name: 'The Admin' }).expect(200);
    });

    it('another admin can disable and demote an admin', async () => {
      await create(admin, { username: 'frank', password: NEW_PASSWORD, isAdmin: true });
      const frank = await portalBrowser(h, 'frank', NEW_PASSWORD);
      const { user: gina } = await create(frank, { username: 'gina', password: NEW_PASSWORD, isAdmin: true });
      await frank.patch(`${PATH}/gina`).set(csrf).send({ isAdmin: false }).expect(200);
      await frank.post(`${PATH}/${gina.id}/disable`).set(csrf).expect(204);
      await frank.delete(`${PATH}/gina`).set(csrf).expect(204);
    });
  });

  describeManagingUsers('reset-totp', () => {
    it("turns off a user's second factor, audited; refuses when there is none", async () => {
      const { user } = await create(admin, { username: 'hank', password: PASSWORD });
      await enrolTotp(h, await portalBrowser(h, 'hank', PASSWORD));
      assert.equal(AdminUser.parse((await admin.get(`${PATH}/hank`).expect(200)).body).totpEnabled, true);
      await admin.post(`${PATH}/hank/reset-totp`).set(csrf).expect(204);
      assert.equal((await h.ctx.identity.mfa.status(user.id)).totp.enabled, false);
      assert.equal(AdminUser.parse((await admin.get(`${PATH}/hank`).expect(200)).body).totpEnabled, false);
      assert.ok(auditOf(h, 'totp_reset').some((l) => l.includes(`user=${user.id}`)));
      const again = await admin.post(`${PATH}/hank/reset-totp`).set(csrf).expect(409);
      assert.match(errorOf(again).message, /no two-factor/);
      await admin.post(`${PATH}/nobody/reset-totp`).set(csrf).expect(404);
    });

    it('refuses an admin:write token, leaves the second factor on and audits the refusal', async () => {
      const { user } = await create(admin, { username: 'ivy', password: PASSWORD });
      await enrolTotp(h, await portalBrowser(h, 'ivy', PASSWORD));
      const api = bearer(h, await apiToken(h, await adminId(h), ['admin:write']));
      const refused = await api.post(`${PATH}/ivy/reset-totp`).expect(403);
      assert.equal(errorOf(refused).code, 'session_required');
      assert.equal((await h.ctx.identity.mfa.status(user.id)).totp.enabled, true);
      assert.ok(auditOf(h, 'mfa_change_refused').some((l) => l.includes('action=totp_reset')));
    });
  });
});

describeManagingUsers('admin: the last enabled admin', () => {
  it('cannot be disabled, demoted or deleted, even by the directory itself', async () => {
    const h = await harness();
    try {
      const id = await adminId(h);
      const directory = h.ctx.identity.directory;
      const lastAdmin = (err: unknown) => err instanceof DirectoryConflict && err.reason === 'last_admin';
      await assert.rejects(directory.setDisabled(id, true), lastAdmin);
      await assert.rejects(directory.updateUser(id, { isAdmin: false }), lastAdmin);
      await assert.rejects(directory.deleteUser(id), lastAdmin);
      const admin = await directory.getUser(id);
      assert.equal(admin?.isAdmin, true);
      assert.equal(admin?.disabled, false);

      // A second, disabled admin does not count; an enabled one does.
      const other = await directory.createUser({
        username: 'second',
        email: null,
        name: null,
        password: ADMIN_PASSWORD,
        isAdmin: true,
        groupIds: [],
      });
      await directory.setDisabled(other.id, true);
      await assert.rejects(directory.setDisabled(id, true), lastAdmin);
      await directory.setDisabled(other.id, false);
      assert.equal(await directory.setDisabled(id, true), true);
      await assert.rejects(directory.deleteUser(other.id), lastAdmin);
    } finally {
      await h.close();
    }
  });
});
