import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AdminGroupList, AdminUserList } from '@gatehouse/shared';
import { browser, csrf, type Agent } from '../helpers/harness.js';
import { ADMIN_PASSWORD } from '../helpers/admin.js';
import { CAROL_PASSWORD, OLIVIA_PASSWORD, openBaoHarness, portalSignIn, type OpenBaoHarness } from './fixture.js';

describe('administration on the OpenBao backend', () => {
  let t: OpenBaoHarness;
  let admin: Agent;
  before(async () => {
    t = await openBaoHarness();
    // carol signs in once with her code: Gatehouse learns she has TOTP.
    await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    admin = await portalSignIn(t, 'olivia', OLIVIA_PASSWORD, t.olivia.secret);
  });
  after(() => t.close());

  const list = async (query = '') => AdminUserList.parse((await admin.get(`/api/v1/admin/users${query}`).expect(200)).body);

  it('makes members of the admin identity group admins, and nobody else', async () => {
    const me = (await admin.get('/api/v1/session').expect(200)).body;
    assert.equal(me.user.isAdmin, true);
    const carol = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    await carol.get('/api/v1/admin/users').expect(403);
    // The bootstrap admin in SQLite is no admin of an OpenBao-backed Gatehouse: it cannot sign in.
    await browser(t.h).post('/api/v1/session').set(csrf).send({ username: 'admin', password: ADMIN_PASSWORD }).expect(401);
  });

  it('lists userpass users with their entity, groups and TOTP status', async () => {
    const { users, total } = await list();
    assert.equal(total, 3);
    assert.deepEqual(
      users.map((u) => [u.username, u.id, u.totpEnabled, u.isAdmin, u.disabled]),
      [
        ['carol', t.carol.id, true, false, false],
        ['dave', t.dave.id, false, false, false],
        ['olivia', t.olivia.id, true, true, false],
      ],
    );
    const carol = users[0]!;
    assert.equal(carol.name, 'Carol Danvers');
    assert.equal(carol.email, 'carol@example.org');
    assert.deepEqual(
      carol.groups.map((g) => g.name),
      ['staff'],
    );
    assert.ok(carol.lastLoginAt !== null);
  });

  it('searches and pages in Gatehouse', async () => {
    assert.deepEqual(
      (await list('?q=danvers')).users.map((u) => u.username),
      ['carol'],
    );
    const page = await list('?limit=1&offset=1');
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.users.map((u) => u.username),
      ['dave'],
    );
  });

  it('finds a user by entity id or by username', async () => {
    assert.equal((await admin.get(`/api/v1/admin/users/${t.carol.id}`).expect(200)).body.username, 'carol');
    assert.equal((await admin.get('/api/v1/admin/users/CAROL').expect(200)).body.id, t.carol.id);
    await admin.get('/api/v1/admin/users/mallory').expect(404);
  });

  it('never puts a crafted id into an OpenBao path', async () => {
    const from = t.bao.requests.length;
    for (const ref of ['..%2F..%2Fsys%2Fseal', '..', `${t.carol.id}%2F..%2F..%2Fsys%2Fhealth`, '%2E%2E%2Fsys']) {
      await admin.get(`/api/v1/admin/users/${ref}`).expect(404);
      await admin.post(`/api/v1/admin/users/${ref}/reset-totp`).set(csrf).expect(404);
    }
    const paths = t.bao.requests.slice(from).map((r) => r.path);
    assert.ok(
      paths.every((p) => !p.includes('..') && !p.startsWith('sys/')),
      paths.join(', '),
    );
    assert.equal(await t.h.ctx.identity.findAccount('../../sys/seal'), undefined);
    assert.equal(await t.h.ctx.identity.directory.getUser(`${t.carol.id}/../x`), undefined);
  });

  it("resets a user's TOTP: OpenBao destroys the secret and the list shows it off", async () => {
    await admin.post('/api/v1/admin/users/carol/reset-totp').set(csrf).expect(204);
    assert.equal(t.bao.entities.find((e) => e.id === t.carol.id)?.totpEnrolled, false);
    assert.equal((await admin.get(`/api/v1/admin/users/${t.carol.id}`).expect(200)).body.totpEnabled, false);
    assert.ok(t.h.audit.some((l) => /\bevent=totp_reset\b/.test(l) && l.includes(t.carol.id)));
    await admin.post('/api/v1/admin/users/carol/reset-totp').set(csrf).expect(409);
  });

  it('reads identity groups, nesting and members', async () => {
    const { groups } = AdminGroupList.parse((await admin.get('/api/v1/admin/groups').expect(200)).body);
    const staff = groups.find((g) => g.name === 'staff');
    assert.deepEqual(
      staff?.parents.map((p) => p.name),
      ['employees'],
    );
    assert.equal(staff?.memberCount, 1);
    const members = (await admin.get(`/api/v1/admin/groups/${staff!.id}/members`).expect(200)).body;
    assert.deepEqual(
      (members.members ?? members).map((m: { username: string }) => m.username),
      ['carol'],
    );
  });

  it('answers 501 not_supported for changes that belong in OpenBao', async () => {
    const refused = [
      admin.post('/api/v1/admin/users').set(csrf).send({ username: 'eve', password: 'eve-password-123', isAdmin: false, groups: [] }),
      admin.patch(`/api/v1/admin/users/${t.dave.id}`).set(csrf).send({ name: 'David' }),
      admin.post(`/api/v1/admin/users/${t.dave.id}/disable`).set(csrf),
      admin.delete(`/api/v1/admin/users/${t.dave.id}`).set(csrf),
      admin.post('/api/v1/admin/groups').set(csrf).send({ name: 'new-group' }),
      // An invitation could only ever end in an account Gatehouse cannot create.
      admin
        .post('/api/v1/admin/invitations')
        .set(csrf)
        .send({ email: 'eve@example.org', groups: ['staff'] }),
    ];
    for (const pending of refused) {
      const res = await pending;
      assert.equal(res.status, 501, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'not_supported');
    }
    assert.equal(t.bao.users.length, 3);
    assert.deepEqual((await admin.get('/api/v1/admin/invitations?status=all').expect(200)).body.invitations, []);
  });
});
