#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ClientRegistration, CreateUserRequest, GroupName, NewPassword } from '@gatehouse/shared';
import { clientFromRegistration } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/load.js';
import { buildContext, type AppContext } from './context.js';
import { DirectoryConflict, NotSupported, type DirectoryUser } from './identity/provider.js';

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

/**
 * The input as the shared schema parses it, or a UsageError with the API's own messages, one
 * `field: message` line per problem (`label` names a value that is not an object).
 */
function parse<S extends z.ZodType>(schema: S, input: unknown, label: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new UsageError(result.error.issues.map((i) => `${i.path.join('.') || label}: ${i.message}`).join('\n'));
}

async function newPassword(ctx: AppContext, fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: parse(NewPassword, await readStdinLine(), 'password'), generated: false };
  return { password: ctx.random.token(18), generated: true };
}

/** The user of that exact username (or id), through the identity backend. */
async function namedUser(ctx: AppContext, username: string | undefined): Promise<DirectoryUser> {
  const user = username ? await ctx.identity.directory.resolveUser(username) : undefined;
  if (!user) throw new UsageError(`no user named ${username ?? ''}`);
  return user;
}

/** The ids of the named groups, creating those that do not exist yet. */
async function groupIds(ctx: AppContext, names: string[]): Promise<string[]> {
  const { directory } = ctx.identity;
  const wanted = [...new Set(names.map((n) => parse(GroupName, n, 'group')))];
  const found = await directory.findGroupsByName(wanted);
  const ids: string[] = [];
  for (const name of wanted) {
    const group =
      found.find((g) => g.name === name) ??
      found.find((g) => g.name.toLowerCase() === name.toLowerCase()) ??
      (await directory.createGroup({ name, description: null, requireMfa: false, parentIds: [] }));
    ids.push(group.id);
  }
  return ids;
}

/** Every user, page by page. */
async function allUsers(ctx: AppContext): Promise<DirectoryUser[]> {
  const users: DirectoryUser[] = [];
  for (;;) {
    const page = await ctx.identity.directory.listUsers({ limit: 200, offset: users.length });
    users.push(...page.users);
    if (page.users.length === 0 || users.length >= page.total) return users;
  }
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
    // The rules of the admin API's user creation, with its messages.
    const { username, email, name, isAdmin } = parse(
      CreateUserRequest,
      { username: positionals[0] ?? '', email: values.email ?? null, name: values.name ?? null, isAdmin: values.admin },
      'user',
    );
    if (await ctx.identity.directory.resolveUser(username)) throw new UsageError(`user ${username} already exists`);
    const { password, generated } = await newPassword(ctx, values['password-stdin']);
    const user = await ctx.identity.directory.createUser({
      username,
      email: email ?? null,
      name: name ?? null,
      password,
      isAdmin,
      groupIds: await groupIds(ctx, values.group),
    });
    await ctx.audit.record({ event: 'user_create', userId: user.id, detail: { username, by: 'cli' } }, now);
    out(`Created user ${username} (id ${user.id})${isAdmin ? ' with admin rights' : ''}.`);
    if (generated) out(`Password (shown once): ${password}`);
    return;
  }
  if (area === 'user' && verb === 'passwd') {
    const user = await namedUser(ctx, positionals[0]);
    const { password, generated } = await newPassword(ctx, values['password-stdin']);
    if (!(await ctx.identity.directory.setPassword(user.id, password)))
      throw new UsageError(`the password of ${user.username} cannot be set here`);
    await ctx.audit.record({ event: 'password_set', userId: user.id, detail: { by: 'cli' } }, now);
    out(`Password of ${user.username} changed.`);
    if (generated) out(`New password (shown once): ${password}`);
    return;
  }
  if (area === 'user' && verb === 'reset-totp') {
    const user = await namedUser(ctx, positionals[0]);
    if (!(await ctx.identity.mfa.status(user.id)).totp.enabled) throw new UsageError(`${user.username} has no two-factor authentication`);
    await ctx.identity.mfa.disableTotp(user.id);
    await ctx.audit.record({ event: 'totp_disable', userId: user.id, detail: { by: 'cli' } }, now);
    out(`Two-factor authentication of ${user.username} is off; they can set it up again after signing in.`);
    return;
  }
  if (area === 'user' && verb === 'list') {
    for (const u of await allUsers(ctx)) {
      out(
        [
          u.username,
          u.id,
          u.email ?? '-',
          u.isAdmin ? 'admin' : 'user',
          u.disabled ? 'disabled' : 'active',
          u.groups.map((g) => g.name).join(',') || '-',
          u.totpEnabled ? 'totp' : '-',
        ].join('\t'),
      );
    }
    return;
  }
  if (area === 'client' && verb === 'add') {
    const type = values.public ? 'public' : 'confidential';
    const secret = type === 'confidential' ? ctx.random.token(32) : undefined;
    const registration = parse(
      ClientRegistration,
      {
        client_id: positionals[0],
        name: values.name,
        type,
        client_secret: secret,
        redirect_uris: values['redirect-uri'],
        post_logout_redirect_uris: values['post-logout-uri'],
        consent: values.consent,
        id_token_signed_response_alg: values.alg,
        ...(values['auth-method'] && { token_endpoint_auth_method: values['auth-method'] }),
      },
      'client',
    );
    if (await ctx.storage.clients.find(registration.client_id)) throw new UsageError(`client ${registration.client_id} already exists`);
    await ctx.storage.clients.insert(clientFromRegistration(registration, 'local'), now);
    await ctx.audit.record({ event: 'client_create', clientId: registration.client_id, detail: { by: 'cli' } }, now);
    out(`Created ${type} client ${registration.client_id}.`);
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
    if (
      err instanceof UsageError ||
      err instanceof ConfigError ||
      err instanceof DirectoryConflict ||
      err instanceof NotSupported ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`gatehouse: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await ctx?.close();
  }
}

process.exitCode = await main();
