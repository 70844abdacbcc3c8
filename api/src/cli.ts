#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ClientRegistration } from '@gatehouse/shared';
import { clientFromRegistration } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/load.js';
import { buildContext, type AppContext } from './context.js';
import { hashPassword } from './identity/passwords.js';

const USAGE = `Usage: gatehouse <command> [options]

  user add <username> [--email E] [--name N] [--admin] [--group G]... [--password-stdin]
  user passwd <username> [--password-stdin]
  user reset-totp <username>        turn off two-factor (the user can enrol again)
  user list
  client add <client_id> --name N --redirect-uri U [--redirect-uri U]... [--post-logout-uri U]...
             [--public] [--consent explicit|implicit] [--alg RS256|ES256] [--auth-method client_secret_basic|client_secret_post]
  client list

Without --password-stdin a random password is generated and printed once.
Client secrets are generated and printed once. Uses the same GATEHOUSE_* settings as the server.`;

class UsageError extends Error {}

async function readStdinLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new UsageError('no password on standard input');
}

async function newPassword(ctx: AppContext, fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) {
    const password = await readStdinLine();
    if (password.length < 12) throw new UsageError('the password must be at least 12 characters');
    return { password, generated: false };
  }
  return { password: ctx.random.token(18), generated: true };
}

async function run(ctx: AppContext, argv: string[]): Promise<void> {
  const [area, verb, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean', default: false },
      group: { type: 'string', multiple: true, default: [] },
      'password-stdin': { type: 'boolean', default: false },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'post-logout-uri': { type: 'string', multiple: true, default: [] },
      public: { type: 'boolean', default: false },
      consent: { type: 'string', default: 'explicit' },
      alg: { type: 'string', default: 'RS256' },
      'auth-method': { type: 'string' },
    },
  });
  const now = ctx.clock.now();
  const out = (s: string) => process.stdout.write(s + '\n');

  if (area === 'user' && verb === 'add') {
    const username = positionals[0];
    if (!username || !/^[A-Za-z0-9._@-]{1,64}$/.test(username)) throw new UsageError('give a username of 1-64 letters, digits or ._@-');
    if (await ctx.storage.users.findByLogin(username)) throw new UsageError(`user ${username} already exists`);
    const { password, generated } = await newPassword(ctx, values['password-stdin']);
    const id = ctx.random.token(16);
    await ctx.storage.users.insert(
      {
        id,
        username,
        email: values.email ?? null,
        emailVerified: false,
        name: values.name ?? null,
        nickname: null,
        passwordHash: await hashPassword(password),
        isAdmin: values.admin,
        disabled: false,
      },
      now,
    );
    await ctx.storage.users.addToGroups(id, values.group, () => ctx.random.token(16));
    await ctx.audit.record({ event: 'user_create', userId: id, detail: { username, by: 'cli' } }, now);
    out(`Created user ${username} (id ${id})${values.admin ? ' with admin rights' : ''}.`);
    if (generated) out(`Password (shown once): ${password}`);
    return;
  }
  if (area === 'user' && verb === 'passwd') {
    const user = positionals[0] ? await ctx.storage.users.findByLogin(positionals[0]) : undefined;
    if (!user || user.username.toLowerCase() !== positionals[0]!.toLowerCase())
      throw new UsageError(`no user named ${positionals[0] ?? ''}`);
    const { password, generated } = await newPassword(ctx, values['password-stdin']);
    await ctx.storage.users.setPasswordHash(user.id, await hashPassword(password), now);
    await ctx.audit.record({ event: 'password_set', userId: user.id, detail: { by: 'cli' } }, now);
    out(`Password of ${user.username} changed.`);
    if (generated) out(`New password (shown once): ${password}`);
    return;
  }
  if (area === 'user' && verb === 'reset-totp') {
    const user = positionals[0] ? await ctx.storage.users.findByLogin(positionals[0]) : undefined;
    if (!user || user.username.toLowerCase() !== positionals[0]!.toLowerCase())
      throw new UsageError(`no user named ${positionals[0] ?? ''}`);
    if (!(await ctx.identity.mfa.status(user.id)).totp.enabled) throw new UsageError(`${user.username} has no two-factor authentication`);
    await ctx.identity.mfa.disableTotp(user.id);
    await ctx.audit.record({ event: 'totp_disable', userId: user.id, detail: { by: 'cli' } }, now);
    out(`Two-factor authentication of ${user.username} is off; they can set it up again after signing in.`);
    return;
  }
  if (area === 'user' && verb === 'list') {
    for (const u of await ctx.storage.users.list()) {
      const groups = await ctx.storage.users.groupsOf(u.id);
      const totp = (await ctx.identity.mfa.status(u.id)).totp.enabled ? 'totp' : '-';
      out(
        [
          u.username,
          u.id,
          u.email ?? '-',
          u.isAdmin ? 'admin' : 'user',
          u.disabled ? 'disabled' : 'active',
          groups.join(',') || '-',
          totp,
        ].join('\t'),
      );
    }
    return;
  }
  if (area === 'client' && verb === 'add') {
    const type = values.public ? 'public' : 'confidential';
    const secret = type === 'confidential' ? ctx.random.token(32) : undefined;
    const parsed = ClientRegistration.safeParse({
      client_id: positionals[0],
      name: values.name,
      type,
      client_secret: secret,
      redirect_uris: values['redirect-uri'],
      post_logout_redirect_uris: values['post-logout-uri'],
      consent: values.consent,
      id_token_signed_response_alg: values.alg,
      ...(values['auth-method'] && { token_endpoint_auth_method: values['auth-method'] }),
    });
    if (!parsed.success) {
      throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'client'}: ${i.message}`).join('\n'));
    }
    if (await ctx.storage.clients.find(parsed.data.client_id)) throw new UsageError(`client ${parsed.data.client_id} already exists`);
    await ctx.storage.clients.insert(clientFromRegistration(parsed.data, 'local'), now);
    await ctx.audit.record({ event: 'client_create', clientId: parsed.data.client_id, detail: { by: 'cli' } }, now);
    out(`Created ${type} client ${parsed.data.client_id}.`);
    if (secret) out(`Client secret (shown once): ${secret}`);
    return;
  }
  if (area === 'client' && verb === 'list') {
    for (const c of await ctx.storage.clients.list()) {
      out([c.id, c.name, c.type, c.consent, c.source, c.redirectUris.join(',')].join('\t'));
    }
    return;
  }
  throw new UsageError(USAGE);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help')) {
    process.stdout.write(USAGE + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  let ctx: AppContext | undefined;
  try {
    ctx = await buildContext(loadConfig(), { auditSink: () => {} });
    await run(ctx, argv);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatehouse: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await ctx?.close();
  }
}

process.exitCode = await main();
