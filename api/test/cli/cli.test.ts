import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NewPassword, Username } from '@gatehouse/shared';
import { ConfigSchema } from '../../src/config/schema.js';
import { bootstrap } from '../../src/bootstrap.js';
import { buildContext } from '../../src/context.js';
import { silentLogger } from '../../src/http/logger.js';
import { sha256 } from '../../src/lib/hash.js';

const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

describe('the gatehouse CLI', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const cli = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', cliPath, ...args], {
      env: { PATH: process.env.PATH, GATEHOUSE_DATA_DIR: dataDir },
      input,
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  const withContext = async <T>(fn: (ctx: Awaited<ReturnType<typeof buildContext>>) => Promise<T>) => {
    const ctx = await buildContext(ConfigSchema.parse({ dataDir }), { auditSink: () => {}, logger: silentLogger });
    try {
      return await fn(ctx);
    } finally {
      await ctx.close();
    }
  };

  it('adds a user with a generated password that then signs in', async () => {
    const r = cli(['user', 'add', 'carol', '--email', 'carol@example.org', '--name', 'Carol', '--group', 'staff', '--admin']);
    assert.equal(r.code, 0, r.err);
    const password = /Password \(shown once\): (\S+)/.exec(r.out)?.[1];
    assert.ok(password && password.length >= 20, r.out);
    const result = await withContext((ctx) => ctx.identity.authenticate('carol@example.org', password));
    assert.equal(result.ok, true);
    const account = await withContext(async (ctx) => ctx.identity.findAccount(result.ok ? result.userId : ''));
    assert.deepEqual(account?.groups, ['staff']);
  });

  it('refuses a user that exists already, and a bad username', () => {
    assert.equal(cli(['user', 'add', 'CAROL']).code, 2);
    const bad = cli(['user', 'add', 'no spaces']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /username/);
  });

  /** What the REST API answers for this value of a shared rule. */
  const apiMessage = (rule: { safeParse(v: unknown): { error?: { issues: { message: string }[] } } }, value: string) => {
    const message = rule.safeParse(value).error?.issues[0]?.message;
    assert.ok(message, `the API accepts ${value}`);
    return message;
  };

  it('refuses a username the API refuses, with the API message', () => {
    for (const name of ['no spaces', 'x'.repeat(65), 'semi;colon']) {
      const r = cli(['user', 'add', name]);
      assert.equal(r.code, 2);
      assert.equal(r.err, `gatehouse: username: ${apiMessage(Username, name)}\n`);
    }
    assert.doesNotMatch(cli(['user', 'list']).out, /semi/);
  });

  it('refuses a new user with a password or email the API refuses, creating nobody', () => {
    const short = cli(['user', 'add', 'dave', '--password-stdin'], 'too-short\n');
    assert.equal(short.code, 2);
    assert.equal(short.err, `gatehouse: password: ${apiMessage(NewPassword, 'too-short')}\n`);
    const email = cli(['user', 'add', 'dave', '--email', 'not-an-email']);
    assert.equal(email.code, 2);
    assert.match(email.err, /^gatehouse: email: /m);
    assert.doesNotMatch(cli(['user', 'list']).out, /^dave\t/m);
  });

  it('refuses an email address that belongs to another account, as the API does', () => {
    const r = cli(['user', 'add', 'dave', '--email', 'CAROL@example.org']);
    assert.equal(r.code, 2);
    assert.match(r.err, /That email address belongs to another account/);
    assert.doesNotMatch(cli(['user', 'list']).out, /^dave\t/m);
  });

  it('sets a password read from standard input and refuses a short one', async () => {
    assert.equal(cli(['user', 'passwd', 'carol', '--password-stdin'], 'a-new-long-password\n').code, 0);
    const ok = await withContext((ctx) => ctx.identity.authenticate('carol', 'a-new-long-password'));
    assert.equal(ok.ok, true);
    const short = cli(['user', 'passwd', 'carol', '--password-stdin'], 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.err, /at least 12/);
    assert.equal(short.err, `gatehouse: password: ${apiMessage(NewPassword, 'short')}\n`);
    assert.equal(cli(['user', 'passwd', 'nobody']).code, 2);
  });

  it('adds a confidential client, printing its secret once and storing only a hash', async () => {
    const r = cli([
      'client',
      'add',
      'forgejo',
      '--name',
      'Forgejo',
      '--redirect-uri',
      'https://git.example.org/user/oauth2/gatehouse/callback',
    ]);
    assert.equal(r.code, 0, r.err);
    const secret = /Client secret \(shown once\): (\S+)/.exec(r.out)?.[1];
    assert.ok(secret);
    const client = await withContext((ctx) => ctx.storage.clients.find('forgejo'));
    assert.equal(client?.secretHash, sha256(secret));
    assert.equal(client?.tokenEndpointAuthMethod, 'client_secret_basic');
  });

  it('refuses a client with an http redirect URI that is not loopback', () => {
    const r = cli(['client', 'add', 'bad', '--name', 'Bad', '--redirect-uri', 'http://app.example.org/cb']);
    assert.equal(r.code, 2);
    assert.match(r.err, /https/);
  });

  it('lists users and clients, and never prints a secret there', () => {
    const users = cli(['user', 'list']);
    assert.match(users.out, /^carol\t.*\tcarol@example\.org\tadmin\tactive\tstaff\t-$/m);
    const clients = cli(['client', 'list']);
    assert.match(clients.out, /^forgejo\tForgejo\tconfidential\texplicit\tlocal\t/m);
    assert.doesNotMatch(clients.out + users.out, /\$argon2/);
  });

  it('resets the two-factor authentication of a user', async () => {
    const secret = await withContext(async (ctx) => {
      const user = (await ctx.storage.users.findByLogin('carol'))!;
      const enrolment = (await ctx.identity.mfa.startTotpEnrolment(user.id, 'carol'))!;
      const { generate } = await import('otplib');
      assert.ok(await ctx.identity.mfa.confirmTotpEnrolment(user.id, await generate({ secret: enrolment.secret })));
      return enrolment.secret;
    });
    assert.ok(secret);
    assert.match(cli(['user', 'list']).out, /^carol\t.*\ttotp$/m);
    const r = cli(['user', 'reset-totp', 'carol']);
    assert.equal(r.code, 0, r.err);
    assert.match(cli(['user', 'list']).out, /^carol\t.*\t-$/m);
    const again = cli(['user', 'reset-totp', 'carol']);
    assert.equal(again.code, 2);
    assert.match(again.err, /no two-factor/);
  });

  it('prints usage for an unknown command and exits 2', () => {
    const r = cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.err, /Usage: gatehouse/);
  });

  it('makes the first admin at start through the identity backend, with a generated password that signs in', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
    const ctx = await buildContext(ConfigSchema.parse({ dataDir: fresh }), { auditSink: () => {}, logger: silentLogger });
    try {
      const { directory } = ctx.identity;
      const created: { username: string; isAdmin: boolean }[] = [];
      const createUser = directory.createUser.bind(directory);
      directory.createUser = (u) => (created.push({ username: u.username, isAdmin: u.isAdmin }), createUser(u));
      const result = await bootstrap(ctx);
      assert.equal(result.adminCreated, true);
      assert.deepEqual(created, [{ username: 'admin', isAdmin: true }]);
      assert.equal(await directory.countAdmins(), 1);
      const admin = await ctx.identity.authenticate('admin', result.generatedAdminPassword!);
      assert.ok(admin.ok && (await ctx.identity.findUser(admin.userId))?.isAdmin);
    } finally {
      await ctx.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('does not stop the first admin being made when users were added before the first start', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', cliPath, 'user', 'add', 'bob'], {
        env: { PATH: process.env.PATH, GATEHOUSE_DATA_DIR: fresh },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const ctx = await buildContext(ConfigSchema.parse({ dataDir: fresh, adminPassword: 'first-admin-password' }), {
        auditSink: () => {},
        logger: silentLogger,
      });
      try {
        assert.deepEqual(await bootstrap(ctx), { adminCreated: true });
        const admin = await ctx.identity.authenticate('admin', 'first-admin-password');
        assert.ok(admin.ok && (await ctx.identity.findUser(admin.userId))?.isAdmin);
        assert.deepEqual(await bootstrap(ctx), { adminCreated: false }, 'only once');
      } finally {
        await ctx.close();
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
