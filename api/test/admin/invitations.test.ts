import { it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { CreatedInvitation, InvitationList } from '@gatehouse/shared';
import { sha256 } from '../../src/lib/hash.js';
import { adminBrowser, adminId, apiToken, bearer } from '../helpers/admin.js';
import { ISSUER, csrf, harness, type Agent, describeManagingUsers } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const PATH = '/api/v1/admin/invitations';

async function invite(agent: Agent, body: object = { email: 'bob@example.org', groups: ['staff'] }) {
  const created = CreatedInvitation.parse((await agent.post(PATH).set(csrf).send(body).expect(201)).body);
  return { ...created, token: created.url.split('#')[1]! };
}

const list = async (agent: Agent, query = '') => InvitationList.parse((await agent.get(PATH + query).expect(200)).body).invitations;

// Accepting an invitation creates an account: only where Gatehouse manages users (OpenBao answers 501).
describeManagingUsers('admin: invitations', () => {
  it('creates an invitation whose link carries the token in its fragment, shown once and stored only as a hash', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const created = await invite(admin, { email: 'bob@example.org', groups: ['staff', 'ops'], expiresInHours: 24 });
      assert.match(created.url, new RegExp(`^${ISSUER}/join#[A-Za-z0-9_-]{43}$`));
      const now = h.clock.now();
      assert.deepEqual(created.invitation, {
        id: created.invitation.id,
        email: 'bob@example.org',
        groups: ['staff', 'ops'],
        status: 'pending',
        createdAt: now,
        expiresAt: now + 24 * 3600,
        createdBy: await adminId(h),
        usedBy: null,
      });
      assert.equal((await h.ctx.storage.invitations.findByHash(sha256(created.token)))?.id, created.invitation.id);

      const listed = await list(admin);
      assert.deepEqual(listed, [created.invitation]);
      assert.ok(!JSON.stringify(listed).includes(created.token), 'the list never shows the token');

      const line = h.audit.find((l) => l.includes('event=invitation_create'));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.ok(
        h.audit.every((l) => !l.includes(created.token)),
        'the token is never logged',
      );
    } finally {
      await h.close();
    }
  });

  it('expires in 72 hours unless told otherwise', async () => {
    const h = await harness();
    try {
      const { invitation } = await invite(await adminBrowser(h), { email: 'bob@example.org' });
      assert.equal(invitation.expiresAt - invitation.createdAt, 72 * 3600);
      assert.deepEqual(invitation.groups, []);
    } finally {
      await h.close();
    }
  });

  it('refuses groups that do not exist, naming them, and stores nothing', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const res = await admin
        .post(PATH)
        .set(csrf)
        .send({ email: 'bob@example.org', groups: ['staff', 'nope', 'missing'] })
        .expect(400);
      assert.equal(res.body.error.code, 'validation_failed');
      assert.match(res.body.error.message, /nope, missing/);
      assert.doesNotMatch(res.body.error.message, /staff/);
      assert.deepEqual(await list(admin, '?status=all'), []);
    } finally {
      await h.close();
    }
  });

  it('refuses a bad body with the field named', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const email = await admin.post(PATH).set(csrf).send({ email: 'not-an-email' }).expect(400);
      assert.equal(email.body.error.code, 'validation_failed');
      assert.equal(email.body.error.details[0].field, 'email');
      const hours = await admin.post(PATH).set(csrf).send({ email: 'bob@example.org', expiresInHours: 0 }).expect(400);
      assert.equal(hours.body.error.details[0].field, 'expiresInHours');
      await admin.post(PATH).set(csrf).send({ email: 'bob@example.org', extra: true }).expect(400);
      assert.deepEqual(await list(admin, '?status=all'), []);
    } finally {
      await h.close();
    }
  });

  it('lists pending invitations by default and every one, with its status, on request', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const used = await invite(admin, { email: 'used@example.org' });
      const revoked = await invite(admin, { email: 'revoked@example.org' });
      const expired = await invite(admin, { email: 'expired@example.org', expiresInHours: 1 });
      h.clock.advance(10);
      const pending = await invite(admin, { email: 'pending@example.org', expiresInHours: 2 });
      assert.ok(await h.ctx.storage.invitations.claim(used.invitation.id, h.clock.now()));
      await admin.delete(`${PATH}/${revoked.invitation.id}`).set(csrf).expect(204);
      h.clock.advance(3600);

      assert.deepEqual(
        (await list(admin)).map((i) => i.email),
        ['pending@example.org'],
      );
      const all = await list(admin, '?status=all');
      assert.deepEqual(Object.fromEntries(all.map((i) => [i.email, i.status])), {
        'pending@example.org': 'pending',
        'used@example.org': 'used',
        'revoked@example.org': 'revoked',
        'expired@example.org': 'expired',
      });
      assert.equal(all[0]!.id, pending.invitation.id, 'newest first');
      assert.deepEqual(
        (await list(admin, '?status=expired')).map((i) => i.id),
        [expired.invitation.id],
      );
      const bad = await admin.get(`${PATH}?status=gone`).expect(400);
      assert.equal(bad.body.error.code, 'validation_failed');
    } finally {
      await h.close();
    }
  });

  it('revokes an unused invitation, so its link stops working', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const { invitation, token } = await invite(admin);
      await admin.delete(`${PATH}/${invitation.id}`).set(csrf).expect(204);
      assert.deepEqual(await list(admin), []);
      assert.equal((await list(admin, '?status=all'))[0]!.status, 'revoked');
      const line = h.audit.find((l) => l.includes('event=invitation_revoke'));
      assert.ok(line);
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      await request(h.app).post('/api/v1/invitations/lookup').set(csrf).send({ token }).expect(404);

      await admin.delete(`${PATH}/${invitation.id}`).set(csrf).expect(204);
      assert.equal(h.audit.filter((l) => l.includes('event=invitation_revoke')).length, 1, 'revoking again changes nothing');
    } finally {
      await h.close();
    }
  });

  it('answers 404 for an unknown invitation and 409 for a used one', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const unknown = await admin.delete(`${PATH}/nope`).set(csrf).expect(404);
      assert.equal(unknown.body.error.code, 'not_found');
      const { invitation } = await invite(admin);
      await h.ctx.storage.invitations.claim(invitation.id, h.clock.now());
      const used = await admin.delete(`${PATH}/${invitation.id}`).set(csrf).expect(409);
      assert.equal(used.body.error.code, 'conflict');
      assert.equal((await list(admin, '?status=all'))[0]!.status, 'used');
    } finally {
      await h.close();
    }
  });

  it('is for admins only: a user gets 403, an admin:read token may list but not change', async () => {
    const h = await harness();
    try {
      const alice = await portalBrowser(h);
      for (const res of [
        await alice.get(PATH),
        await alice.post(PATH).set(csrf).send({ email: 'bob@example.org' }),
        await alice.delete(`${PATH}/x`).set(csrf),
      ]) {
        assert.equal(res.status, 403);
        assert.equal(res.body.error.code, 'insufficient_scope');
      }

      const { invitation } = await invite(await adminBrowser(h));
      const reader = bearer(h, await apiToken(h, await adminId(h), ['admin:read']));
      assert.equal((await reader.get(PATH).expect(200)).body.invitations.length, 1);
      const create = await reader.post(PATH, { email: 'eve@example.org' }).expect(403);
      assert.equal(create.body.error.code, 'insufficient_scope');
      await reader.delete(`${PATH}/${invitation.id}`).expect(403);

      const writer = bearer(h, await apiToken(h, await adminId(h), ['admin:write']));
      await writer.post(PATH, { email: 'eve@example.org' }).expect(201);
      await writer.delete(`${PATH}/${invitation.id}`).expect(204);

      const anonymous = await request(h.app).get(PATH).set(csrf).expect(401);
      assert.equal(anonymous.body.error.code, 'unauthenticated');
    } finally {
      await h.close();
    }
  });
});
