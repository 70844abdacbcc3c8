import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { AdminGroup, AdminGroupList, CreatedInvitation, GroupMemberList, InvitationList, TokenResponse } from '@gatehouse/shared';
import { adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import {
  CONFIDENTIAL,
  ISSUER,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  startInteraction,
  submitLogin,
  type Agent,
  type Harness,
  ALICE_ID,
  describeManagingUsers,
  itManagingUsers,
} from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/groups';

function errorOf(res: { body: unknown }): { code: string; message: string; details?: { field: string; message: string }[] } {
  return (res.body as { error: { code: string; message: string; details?: { field: string; message: string }[] } }).error;
}

async function createGroup(agent: Agent, body: object): Promise<AdminGroup> {
  const res = await agent.post(PATH).set(csrf).send(body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return AdminGroup.parse(res.body);
}

async function groupNamed(agent: Agent, name: string): Promise<AdminGroup> {
  const found = AdminGroupList.parse((await agent.get(PATH).expect(200)).body).groups.find((g) => g.name === name);
  assert.ok(found, `no group ${name}`);
  return found;
}

const auditOf = (h: Harness, event: string) => h.audit.filter((l) => l.includes(`event=${event} `));

/** Alice's ID token and userinfo groups after a code flow at grafana. */
async function aliceGroupsClaims(h: Harness): Promise<{ idToken: unknown; userinfo: unknown }> {
  const url = await authorize(browser(h), confidentialParams());
  const code = url.searchParams.get('code');
  assert.ok(code, url.toString());
  const tokens = TokenResponse.parse((await redeem(h, code).expect(200)).body);
  const jwks = createLocalJWKSet(JSON.parse(h.ctx.keys.jwksJson));
  const id = await jwtVerify(tokens.id_token!, jwks, { issuer: ISSUER, audience: 'grafana', currentDate: new Date(h.clock.now() * 1000) });
  const info = await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
  return { idToken: id.payload.groups, userinfo: info.body.groups };
}

describe('admin: groups', () => {
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
      assert.equal(errorOf(await alice.get(PATH).expect(403)).code, 'insufficient_scope');
      assert.equal(errorOf(await alice.post(PATH).set(csrf).send({ name: 'mine' }).expect(403)).code, 'insufficient_scope');
      const ops = await groupNamed(admin, 'ops');
      await alice.put(`${PATH}/${ops.id}/members/${ALICE_ID}`).set(csrf).expect(403);
      assert.deepEqual(await h.ctx.identity.directory.findGroupsByName(['mine']), []);
    });

    it('lets an admin:read token read but not change groups', async () => {
      const api = bearer(h, await apiToken(h, await adminId(h), ['admin:read']));
      const ops = await groupNamed(admin, 'ops');
      AdminGroupList.parse((await api.get(PATH).expect(200)).body);
      GroupMemberList.parse((await api.get(`${PATH}/${ops.id}/members`).expect(200)).body);
      assert.equal(errorOf(await api.post(PATH, { name: 'readonly' }).expect(403)).code, 'insufficient_scope');
      await api.patch(`${PATH}/${ops.id}`, { name: 'renamed' }).expect(403);
      await api.delete(`${PATH}/${ops.id}`).expect(403);
      await api.delete(`${PATH}/${ops.id}/members/${ALICE_ID}`).expect(403);
      assert.equal((await groupNamed(admin, 'ops')).memberCount, 1);
    });
  });

  describeManagingUsers('create, read, change, delete', () => {
    it('creates a group, audited with the acting admin, and reads it back', async () => {
      const staff = await groupNamed(admin, 'staff');
      const created = await createGroup(admin, { name: 'auditors', description: 'Read the books', requireMfa: true, parents: [staff.id] });
      assert.deepEqual(created, {
        id: created.id,
        name: 'auditors',
        description: 'Read the books',
        requireMfa: true,
        parents: [{ id: staff.id, name: 'staff' }],
        memberCount: 0,
      });
      assert.deepEqual(AdminGroup.parse((await admin.get(`${PATH}/${created.id}`).expect(200)).body), created);
      const listed = AdminGroupList.parse((await admin.get(PATH).expect(200)).body).groups.map((g) => g.name);
      assert.deepEqual(listed, ['auditors', 'ops', 'staff']);
      const line = auditOf(h, 'group_create').find((l) => l.includes(`group=${created.id}`));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
    });

    it('refuses a taken name, an unknown parent and bad input', async () => {
      const taken = await admin.post(PATH).set(csrf).send({ name: 'ops' }).expect(409);
      assert.equal(errorOf(taken).code, 'conflict');
      assert.match(errorOf(taken).message, /group with that name/);
      const unknown = await admin
        .post(PATH)
        .set(csrf)
        .send({ name: 'orphan', parents: ['no-such-group'] })
        .expect(400);
      assert.equal(errorOf(unknown).code, 'validation_failed');
      assert.equal(errorOf(unknown).details?.[0]?.field, 'parents');
      assert.equal(errorOf(await admin.post(PATH).set(csrf).send({ name: '' }).expect(400)).code, 'validation_failed');
      await admin.post(PATH).set(csrf).send({ name: 'x', extra: true }).expect(400);
      assert.deepEqual(await h.ctx.identity.directory.findGroupsByName(['orphan', 'x']), []);
    });

    it('changes description, second-factor requirement and parents; answers 404 for unknown groups', async () => {
      const g = await createGroup(admin, { name: 'editors' });
      const staff = await groupNamed(admin, 'staff');
      const changed = AdminGroup.parse(
        (
          await admin
            .patch(`${PATH}/${g.id}`)
            .set(csrf)
            .send({ description: 'Write things', requireMfa: true, parents: [staff.id] })
            .expect(200)
        ).body,
      );
      assert.equal(changed.description, 'Write things');
      assert.equal(changed.requireMfa, true);
      assert.deepEqual(changed.parents, [{ id: staff.id, name: 'staff' }]);
      const cleared = AdminGroup.parse(
        (await admin.patch(`${PATH}/${g.id}`).set(csrf).send({ description: null, parents: [] }).expect(200)).body,
      );
      assert.equal(cleared.description, null);
      assert.deepEqual(cleared.parents, []);
      assert.ok(auditOf(h, 'group_update').some((l) => l.includes(`group=${g.id}`)));
      assert.equal(errorOf(await admin.patch(`${PATH}/${g.id}`).set(csrf).send({}).expect(400)).code, 'validation_failed');
      assert.equal(errorOf(await admin.patch(`${PATH}/nope`).set(csrf).send({ description: 'x' }).expect(404)).code, 'not_found');
      await admin.get(`${PATH}/nope`).expect(404);
      await admin.get(`${PATH}/nope/members`).expect(404);
    });

    it('refuses a rename to a taken name', async () => {
      const g = await createGroup(admin, { name: 'writers' });
      const res = await admin.patch(`${PATH}/${g.id}`).set(csrf).send({ name: 'staff' }).expect(409);
      assert.equal(errorOf(res).code, 'conflict');
      assert.equal((await h.ctx.identity.directory.getGroup(g.id))?.name, 'writers');
    });

    it('deletes a group with its memberships and nesting', async () => {
      const parent = await createGroup(admin, { name: 'doomed' });
      const child = await createGroup(admin, { name: 'child-of-doomed', parents: [parent.id] });
      await admin.put(`${PATH}/${parent.id}/members/alice`).set(csrf).expect(204);
      await admin.delete(`${PATH}/${parent.id}`).set(csrf).expect(204);
      await admin.get(`${PATH}/${parent.id}`).expect(404);
      assert.deepEqual(AdminGroup.parse((await admin.get(`${PATH}/${child.id}`).expect(200)).body).parents, []);
      assert.ok(!(await h.ctx.identity.findUser(ALICE_ID))?.groups.includes('doomed'));
      assert.ok(auditOf(h, 'group_delete').some((l) => l.includes(`group=${parent.id}`) && l.includes('name=doomed')));
      await admin.delete(`${PATH}/${parent.id}`).set(csrf).expect(404);
    });
  });

  describe('members', () => {
    itManagingUsers('lists, adds and removes direct members, by user id or exact username', async () => {
      const g = await createGroup(admin, { name: 'crew' });
      const bob = await h.ctx.identity.directory.createUser({
        username: 'bob',
        email: null,
        name: 'Bob',
        password: null,
        isAdmin: false,
        groupIds: [],
      });
      await admin.put(`${PATH}/${g.id}/members/${ALICE_ID}`).set(csrf).expect(204);
      await admin.put(`${PATH}/${g.id}/members/BOB`).set(csrf).expect(204);
      await admin.put(`${PATH}/${g.id}/members/bob`).set(csrf).expect(204);
      const members = GroupMemberList.parse((await admin.get(`${PATH}/${g.id}/members`).expect(200)).body).members;
      assert.deepEqual(members, [
        { id: ALICE_ID, username: 'alice', name: 'Alice Liddell' },
        { id: bob.id, username: 'bob', name: 'Bob' },
      ]);
      assert.equal(AdminGroup.parse((await admin.get(`${PATH}/${g.id}`).expect(200)).body).memberCount, 2);
      assert.ok(auditOf(h, 'group_member_add').some((l) => l.includes(`user=${bob.id}`) && l.includes(`group=${g.id}`)));

      await admin.delete(`${PATH}/${g.id}/members/${bob.id}`).set(csrf).expect(204);
      assert.deepEqual(
        GroupMemberList.parse((await admin.get(`${PATH}/${g.id}/members`).expect(200)).body).members.map((m) => m.username),
        ['alice'],
      );
      assert.ok(auditOf(h, 'group_member_remove').some((l) => l.includes(`user=${bob.id}`)));
    });

    it('answers 404 for an unknown user or group, or a partial username', async () => {
      const ops = await groupNamed(admin, 'ops');
      for (const path of [`${PATH}/${ops.id}/members/nobody`, `${PATH}/${ops.id}/members/ali`, `${PATH}/nope/members/${ALICE_ID}`]) {
        assert.equal(errorOf(await admin.put(path).set(csrf).expect(404)).code, 'not_found', path);
        await admin.delete(path).set(csrf).expect(404);
      }
    });
  });
});

describeManagingUsers('admin: nested groups', () => {
  it('puts inherited groups into the groups claim of the ID token and userinfo', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      assert.deepEqual(await aliceGroupsClaims(h), { idToken: ['ops', 'staff'], userinfo: ['ops', 'staff'] });
      const infra = await createGroup(admin, { name: 'infra' });
      const everyone = await createGroup(admin, { name: 'everyone' });
      await admin
        .patch(`${PATH}/${infra.id}`)
        .set(csrf)
        .send({ parents: [everyone.id] })
        .expect(200);
      const ops = await groupNamed(admin, 'ops');
      const staff = await groupNamed(admin, 'staff');
      await admin
        .patch(`${PATH}/${ops.id}`)
        .set(csrf)
        .send({ parents: [infra.id] })
        .expect(200);
      // staff is nested in everyone too: everyone appears once.
      await admin
        .patch(`${PATH}/${staff.id}`)
        .set(csrf)
        .send({ parents: [everyone.id] })
        .expect(200);
      const expected = ['everyone', 'infra', 'ops', 'staff'];
      assert.deepEqual(await aliceGroupsClaims(h), { idToken: expected, userinfo: expected });
      // The admin screens show direct memberships only.
      const alice = (await admin.get('/api/v1/admin/users/alice').expect(200)).body as { groups: { name: string }[] };
      assert.deepEqual(
        alice.groups.map((g) => g.name),
        ['ops', 'staff'],
      );
    } finally {
      await h.close();
    }
  });

  it('requires a second factor when any effective group does', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      assert.equal((await h.ctx.identity.findUser(ALICE_ID))?.requireMfa, false);
      const secure = await createGroup(admin, { name: 'secure', requireMfa: true });
      const ops = await groupNamed(admin, 'ops');
      await admin
        .patch(`${PATH}/${ops.id}`)
        .set(csrf)
        .send({ parents: [secure.id] })
        .expect(200);
      const alice = await h.ctx.identity.findUser(ALICE_ID);
      assert.equal(alice?.requireMfa, true);
      assert.deepEqual(alice?.groups, ['ops', 'secure', 'staff']);
      await admin.patch(`${PATH}/${secure.id}`).set(csrf).send({ requireMfa: false }).expect(200);
      assert.equal((await h.ctx.identity.findUser(ALICE_ID))?.requireMfa, false);
    } finally {
      await h.close();
    }
  });

  it('refuses nesting that would make a cycle, changing nothing', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const a = await createGroup(admin, { name: 'a' });
      const b = await createGroup(admin, { name: 'b', parents: [a.id] });
      const c = await createGroup(admin, { name: 'c', parents: [b.id] });
      for (const [group, parents] of [
        [a, [c.id]],
        [a, [b.id]],
        [b, [b.id]],
        [a, [a.id]],
      ] as const) {
        const res = await admin.patch(`${PATH}/${group.id}`).set(csrf).send({ parents }).expect(400);
        assert.equal(errorOf(res).code, 'validation_failed');
        assert.equal(errorOf(res).details?.[0]?.field, 'parents');
        assert.match(errorOf(res).message, /cannot be nested in itself/);
      }
      assert.deepEqual(AdminGroup.parse((await admin.get(`${PATH}/${a.id}`).expect(200)).body).parents, []);
      assert.deepEqual(
        AdminGroup.parse((await admin.get(`${PATH}/${b.id}`).expect(200)).body).parents.map((p) => p.name),
        ['a'],
      );
      // Re-nesting without a cycle is fine: c directly under a as well.
      await admin
        .patch(`${PATH}/${c.id}`)
        .set(csrf)
        .send({ parents: [b.id, a.id] })
        .expect(200);
    } finally {
      await h.close();
    }
  });
});

describeManagingUsers('admin: groups named by access policies and invitations', () => {
  it("a rename follows in clients' allowed groups and pending invitations; sign-in keeps working", async () => {
    const h = await harness({ clients: [{ ...CONFIDENTIAL, allowed_groups: ['ops'] }] });
    try {
      const admin = await adminBrowser(h);
      const invitation = CreatedInvitation.parse(
        (
          await admin
            .post('/api/v1/admin/invitations')
            .set(csrf)
            .send({ email: 'new@example.org', groups: ['ops', 'staff'] })
            .expect(201)
        ).body,
      );
      const ops = await groupNamed(admin, 'ops');
      await admin.patch(`${PATH}/${ops.id}`).set(csrf).send({ name: 'operations' }).expect(200);
      assert.deepEqual((await h.ctx.storage.clients.find('grafana'))?.allowedGroups, ['operations']);
      const invitations = InvitationList.parse((await admin.get('/api/v1/admin/invitations').expect(200)).body).invitations;
      assert.deepEqual(invitations.find((i) => i.id === invitation.invitation.id)?.groups, ['operations', 'staff']);
      assert.ok(auditOf(h, 'group_update').some((l) => l.includes('from=ops') && l.includes('name=operations')));
      const url = await authorize(browser(h), confidentialParams());
      assert.ok(url.searchParams.get('code'), `alice may still sign in: ${url}`);
    } finally {
      await h.close();
    }
  });

  it('an inherited group satisfies an access policy', async () => {
    const h = await harness({ clients: [{ ...CONFIDENTIAL, allowed_groups: ['infra'] }] });
    try {
      const admin = await adminBrowser(h);
      const infra = await createGroup(admin, { name: 'infra' });
      const agent = browser(h);
      const { id } = await startInteraction(agent, confidentialParams());
      assert.equal((await submitLogin(agent, id)).next, 'denied');
      await admin
        .patch(`${PATH}/${(await groupNamed(admin, 'ops')).id}`)
        .set(csrf)
        .send({ parents: [infra.id] })
        .expect(200);
      const allowed = await authorize(browser(h), confidentialParams());
      assert.ok(allowed.searchParams.get('code'), allowed.toString());
    } finally {
      await h.close();
    }
  });

  it('refuses to delete a group an access policy names, so the client never opens up', async () => {
    const h = await harness({ clients: [{ ...CONFIDENTIAL, allowed_groups: ['ops'] }] });
    try {
      const admin = await adminBrowser(h);
      const ops = await groupNamed(admin, 'ops');
      const res = await admin.delete(`${PATH}/${ops.id}`).set(csrf).expect(409);
      assert.equal(errorOf(res).code, 'conflict');
      assert.match(errorOf(res).message, /access policy of grafana/);
      assert.ok(await h.ctx.identity.directory.getGroup(ops.id));
      assert.equal(auditOf(h, 'group_delete').length, 0);
    } finally {
      await h.close();
    }
  });
});
