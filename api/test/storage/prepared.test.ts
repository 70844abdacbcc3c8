import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from '../../src/storage/db.js';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { PreparedQuery, runInTransaction } from '../../src/storage/prepared.js';

describe('prepared queries (kysely compiled once, run through cached statements)', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let storage: Storage;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-prepared-'));
    opened = await openDatabase(dir);
    storage = createStorage(opened.db);
    const user = { email: null, emailVerified: false, name: null, nickname: null, passwordHash: 'x', isAdmin: false, disabled: false };
    await storage.users.insert({ ...user, id: 'u1', username: 'one' }, 100);
    await storage.users.insert({ ...user, id: 'u2', username: 'two' }, 100);
  });
  after(async () => {
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const groupNames = () =>
    new PreparedQuery(opened.db, (p: { name: string }) => opened.db.selectFrom('groups').select('name').where('name', '=', p.name));
  const insertGroup = () =>
    new PreparedQuery(opened.db, (p: { id: string; name: string }) => opened.db.insertInto('groups').values({ id: p.id, name: p.name }));

  it('binds values by name to the positions kysely compiled, keeping constants', async () => {
    // The parameters appear in the SQL in another order than the object lists them.
    const { db } = opened;
    const q = new PreparedQuery(db, (p: { b: number; a: string }) =>
      db.updateTable('users').set({ updated_at: p.b, disabled: 0 }).where('id', '=', p.a).where('is_admin', '=', 0),
    );
    assert.match(q.sql, /^update "users" set "updated_at" = \?, "disabled" = \? where "id" = \? and "is_admin" = \?$/);
    assert.equal(await q.run({ a: 'u1', b: 555 }), 1);
    assert.equal((await storage.users.findById('u1'))?.updatedAt, 555);
    assert.equal(await q.run({ a: 'nobody', b: 1 }), 0);
  });

  it('returns the first row, all rows, or undefined', async () => {
    await insertGroup().run({ id: 'g1', name: 'ops' });
    assert.deepEqual(await groupNames().first({ name: 'ops' }), { name: 'ops' });
    assert.equal(await groupNames().first({ name: 'none' }), undefined);
    assert.deepEqual(await groupNames().all({ name: 'ops' }), [{ name: 'ops' }]);
  });

  it('refuses a missing value and a parameter compiled into the SQL text', async () => {
    await assert.rejects(groupNames().first({} as { name: string }), /parameter name is missing/);
    const { db } = opened;
    assert.throws(
      () => new PreparedQuery(db, (p: { t: string }) => db.selectFrom('groups').select(sql.raw<string>(p.t).as('x'))),
      /compiled into the SQL/,
    );
  });

  it('does not run inside a kysely transaction another request holds open, but after it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const { db } = opened;
    const held = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('groups').values({ id: 'rolled-back', name: 'rolled-back' }).execute();
        inside();
        await gate;
        throw new Error('roll back');
      })
      .catch((err: Error) => err.message);
    await entered;
    // Issued while the transaction is open: must neither join it nor be lost with it.
    const write = insertGroup().run({ id: 'g2', name: 'kept' });
    const txWrite = runInTransaction(db, [insertGroup().step({ id: 'g3', name: 'kept-too' })]);
    release();
    assert.equal(await held, 'roll back');
    assert.equal(await write, 1);
    await txWrite;
    assert.deepEqual(await groupNames().first({ name: 'kept' }), { name: 'kept' });
    assert.deepEqual(await groupNames().first({ name: 'kept-too' }), { name: 'kept-too' });
    assert.equal(await groupNames().first({ name: 'rolled-back' }), undefined);
  });

  it('runs transaction steps all or nothing', async () => {
    await assert.rejects(
      runInTransaction(opened.db, [
        insertGroup().step({ id: 'g4', name: 'first-step' }),
        insertGroup().step({ id: 'g1', name: 'duplicate id' }),
      ]),
      /UNIQUE/,
    );
    assert.equal(await groupNames().first({ name: 'first-step' }), undefined);
    assert.equal(opened.sqlite.inTransaction, false);
  });

  it('rolls the transaction back and answers false when a mustChange step changes no row, directly or queued', async () => {
    const { db } = opened;
    const rename = new PreparedQuery(db, (p: { id: string; name: string }) =>
      db.updateTable('groups').set({ name: p.name }).where('id', '=', p.id),
    );
    const attempt = () =>
      runInTransaction(db, [
        insertGroup().step({ id: 'g5', name: 'before-guard' }),
        rename.step({ id: 'no-such-group', name: 'x' }, { mustChange: true }),
      ]);
    assert.equal(await attempt(), false);
    assert.equal(await groupNames().first({ name: 'before-guard' }), undefined);
    assert.equal(opened.sqlite.inTransaction, false);

    // The same while another transaction holds the connection (the kysely path).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const held = db.transaction().execute(async () => {
      inside();
      await gate;
    });
    await entered;
    assert.equal(opened.sqlite.inTransaction, true);
    const queued = attempt();
    release();
    await held;
    assert.equal(await queued, false);
    assert.equal(await groupNames().first({ name: 'before-guard' }), undefined);

    assert.equal(
      await runInTransaction(db, [
        insertGroup().step({ id: 'g5', name: 'before-guard' }),
        rename.step({ id: 'g5', name: 'guarded' }, { mustChange: true }),
      ]),
      true,
    );
    assert.deepEqual(await groupNames().first({ name: 'guarded' }), { name: 'guarded' });
  });

  it('reads a user with their groups in name order, and a user without groups', async () => {
    let n = 0;
    await storage.users.addToGroups('u1', ['zeta', 'alpha', 'Mid'], () => `gid-${n++}`);
    const found = await storage.users.findWithGroups('u1');
    assert.equal(found?.user.username, 'one');
    assert.deepEqual(found?.groups, await storage.users.groupsOf('u1'));
    assert.deepEqual(found?.groups, ['Mid', 'alpha', 'zeta']);
    assert.deepEqual((await storage.users.findWithGroups('u2'))?.groups, []);
    assert.equal(await storage.users.findWithGroups('nobody'), undefined);
  });

  it('reads effective groups through nesting, each once, with the second-factor requirement', async () => {
    const { db } = opened;
    let n = 0;
    await storage.users.addToGroups('u2', ['leaf', 'side'], () => `nest-${n++}`);
    const id = async (name: string) => (await db.selectFrom('groups').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
    await insertGroup().run({ id: 'root', name: 'root' });
    await insertGroup().run({ id: 'mid', name: 'mid' });
    // leaf → mid → root and side → root; root → leaf would be a cycle the admin API refuses,
    // but the query must still end if one were there.
    await db
      .insertInto('group_parents')
      .values([
        { group_id: await id('leaf'), parent_id: 'mid' },
        { group_id: 'mid', parent_id: 'root' },
        { group_id: await id('side'), parent_id: 'root' },
        { group_id: 'root', parent_id: await id('leaf') },
      ])
      .execute();
    const found = await storage.users.findWithGroups('u2');
    assert.deepEqual(found?.groups, ['leaf', 'mid', 'root', 'side']);
    assert.equal(found?.requireMfa, false);
    await db.updateTable('groups').set({ require_mfa: 1 }).where('id', '=', 'root').execute();
    assert.equal((await storage.users.findWithGroups('u2'))?.requireMfa, true);
    assert.equal((await storage.users.findWithGroups('u1'))?.requireMfa, false);
  });
});
