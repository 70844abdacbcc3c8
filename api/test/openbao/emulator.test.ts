import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOpenBaoEmulator, type OpenBaoEmulator } from './emulator.js';

/**
 * Pins the OpenBao emulator's behaviour to what the OpenBao API docs describe, so the Gatehouse
 * OpenBao backend tests stand on known ground. See the header of emulator.ts for the sources.
 */

interface Answer {
  status: number;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let bao: OpenBaoEmulator;
beforeEach(async () => {
  bao = await startOpenBaoEmulator();
});
afterEach(() => bao.stop());

async function call(
  path: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['x-vault-token'] = options.token;
  const res = await fetch(`${bao.url}/v1/${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const asService = (path: string, body?: unknown, method?: string) => call(path, { token: bao.serviceToken, body, method });

/** Password, then TOTP: answers the `auth` block of the finished login. */
async function signIn(username: string, password: string, secret: string, steps = 0) {
  const login = await call(`auth/userpass/login/${username}`, { body: { password } });
  assert.equal(login.status, 200);
  const validated = await call('sys/mfa/validate', {
    body: { mfa_request_id: login.body.auth.mfa_requirement.mfa_request_id, mfa_payload: { [bao.mfaMethodId]: [bao.totp(secret, steps)] } },
  });
  assert.equal(validated.status, 200, JSON.stringify(validated.body));
  return validated.body.auth;
}

describe('openbao emulator: health and mounts', () => {
  it('reports 200 unsealed, 503 sealed on sys/health and 503 elsewhere while sealed', async () => {
    const healthy = await call('sys/health');
    assert.equal(healthy.status, 200);
    assert.equal(healthy.body.sealed, false);

    bao.setUnreachable(true);
    const sealed = await call('sys/health');
    assert.equal(sealed.status, 503);
    assert.equal(sealed.body.sealed, true);
    assert.deepEqual((await asService('sys/auth')).body.errors, ['Vault is sealed']);

    bao.setUnreachable(false);
    assert.equal((await call('sys/health')).status, 200);
  });

  it('drops connections in refuse mode', async () => {
    bao.setUnreachable(true, 'refuse');
    await assert.rejects(fetch(`${bao.url}/v1/sys/health`));
    bao.setUnreachable(false);
    assert.equal((await call('sys/health')).status, 200);
  });

  it('lists the userpass mount with its accessor to the service token only', async () => {
    const mounts = await asService('sys/auth');
    assert.equal(mounts.status, 200);
    assert.equal(mounts.body.data['userpass/'].accessor, bao.userpassAccessor);
    assert.equal(mounts.body.data['userpass/'].type, 'userpass');
    assert.deepEqual((await call('sys/auth')).body.errors, ['permission denied']);
  });
});

describe('openbao emulator: userpass login with TOTP MFA', () => {
  it('refuses a wrong password with 400 "invalid username or password"', async () => {
    bao.addUser('alice', 'right');
    const res = await call('auth/userpass/login/alice', { body: { password: 'wrong' } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, ['invalid username or password']);
  });

  it('answers an mfa_requirement, refuses a wrong code without spending the request, then issues a token', async () => {
    const entityId = bao.addUser('alice', 'pw', { name: 'Alice', email: 'alice@example.test' });
    const secret = bao.enrolTotp('alice');
    const login = await call('auth/userpass/login/alice', { body: { password: 'pw' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.auth.client_token, '');
    const requirement = login.body.auth.mfa_requirement;
    assert.deepEqual(requirement.mfa_constraints[bao.mfaEnforcementName].any, [
      { type: 'totp', id: bao.mfaMethodId, uses_passcode: true, name: bao.mfaMethodName },
    ]);

    const validate = (code: string) =>
      call('sys/mfa/validate', { body: { mfa_request_id: requirement.mfa_request_id, mfa_payload: { [bao.mfaMethodId]: [code] } } });
    const wrong = await validate(bao.totp(secret) === '000000' ? '111111' : '000000');
    assert.equal(wrong.status, 403);
    const right = await validate(bao.totp(secret));
    assert.equal(right.status, 200);
    const auth = right.body.auth;
    assert.match(auth.client_token, /^s\./);
    assert.equal(auth.entity_id, entityId);
    assert.deepEqual(auth.metadata, { username: 'alice' });
    assert.equal(auth.lease_duration, 3600);
    assert.equal(auth.renewable, true);
    assert.ok(auth.policies.includes('default'));

    const again = await validate(bao.totp(secret));
    assert.equal(again.status, 400, 'a request id is single use');
    assert.deepEqual(again.body.errors, ['invalid request ID']);
  });

  it('refuses a passcode that was already used, even on a new login', async () => {
    bao.addUser('alice', 'pw');
    const secret = bao.enrolTotp('alice');
    await signIn('alice', 'pw', secret);
    const login = await call('auth/userpass/login/alice', { body: { password: 'pw' } });
    const reused = await call('sys/mfa/validate', {
      body: { mfa_request_id: login.body.auth.mfa_requirement.mfa_request_id, mfa_payload: { [bao.mfaMethodId]: [bao.totp(secret)] } },
    });
    assert.equal(reused.status, 403);
    assert.match(reused.body.errors[0], /code already used/);
  });

  it('expires an MFA request after 300 seconds', async () => {
    bao.addUser('alice', 'pw');
    const secret = bao.enrolTotp('alice');
    const login = await call('auth/userpass/login/alice', { body: { password: 'pw' } });
    bao.advance(300);
    const late = await call('sys/mfa/validate', {
      body: { mfa_request_id: login.body.auth.mfa_requirement.mfa_request_id, mfa_payload: { [bao.mfaMethodId]: [bao.totp(secret)] } },
    });
    assert.equal(late.status, 400);
  });

  it('asks for MFA from a user without a TOTP secret and then cannot satisfy it', async () => {
    bao.addUser('bob', 'pw');
    const login = await call('auth/userpass/login/bob', { body: { password: 'pw' } });
    assert.ok(login.body.auth.mfa_requirement);
    const res = await call('sys/mfa/validate', {
      body: { mfa_request_id: login.body.auth.mfa_requirement.mfa_request_id, mfa_payload: { [bao.mfaMethodId]: ['123456'] } },
    });
    assert.equal(res.status, 403);
    assert.match(res.body.errors[0], /not present in entity/);
  });

  it('issues a token straight away when MFA is not enforced, creating an implicit entity', async () => {
    bao.enforceMfa(false);
    bao.addUser('carol', 'pw', { entity: false });
    const res = await call('auth/userpass/login/carol', { body: { password: 'pw' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.auth.mfa_requirement, null);
    assert.equal(bao.users[0]!.entityId, res.body.auth.entity_id);
  });

  it('applies a group-targeted enforcement to members of the group, nested ones included, only', async () => {
    bao.addGroup('two-factor');
    bao.addGroup('admins', { parents: ['two-factor'] });
    bao.enforceMfa({ groups: ['two-factor'] });
    const id = bao.addUser('olga', 'pw', { id: '0b5c2f6e-4d7a-4e4b-9a57-2f1f6d3c8a01', groups: ['admins'] });
    assert.equal(id, '0b5c2f6e-4d7a-4e4b-9a57-2f1f6d3c8a01');
    bao.addUser('pat', 'pw');
    assert.ok((await call('auth/userpass/login/olga', { body: { password: 'pw' } })).body.auth.mfa_requirement);
    const plain = await call('auth/userpass/login/pat', { body: { password: 'pw' } });
    assert.equal(plain.body.auth.mfa_requirement, null);
    assert.ok(plain.body.auth.client_token);
  });

  it('locks a user out after 5 failures, even with the right password, for 15 minutes', async () => {
    bao.enforceMfa(false);
    bao.addUser('alice', 'pw');
    for (let i = 0; i < 5; i++) assert.equal((await call('auth/userpass/login/alice', { body: { password: 'no' } })).status, 400);
    assert.equal((await call('auth/userpass/login/alice', { body: { password: 'pw' } })).status, 403);
    bao.advance(900);
    assert.equal((await call('auth/userpass/login/alice', { body: { password: 'pw' } })).status, 200);
  });
});

describe('openbao emulator: tokens', () => {
  it('reports the token with lookup-self and refuses it with 403 once expired', async () => {
    bao.userTokenTtl = 600;
    bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    const self = await call('auth/token/lookup-self', { token: auth.client_token });
    assert.equal(self.status, 200);
    assert.equal(self.body.data.ttl, 600);
    assert.equal(self.body.data.entity_id, auth.entity_id);
    assert.equal(self.body.data.expire_time, new Date((bao.now() + 600) * 1000).toISOString());

    bao.advance(600);
    const expired = await call('auth/token/lookup-self', { token: auth.client_token });
    assert.equal(expired.status, 403);
    assert.deepEqual(expired.body.errors, ['permission denied']);
    assert.equal(bao.revokedTokens.find((t) => t.id === auth.client_token)?.revoked, 'expired');
  });

  it('refuses service-only endpoints to a user token', async () => {
    const entityId = bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    assert.equal((await call(`identity/entity/id/${entityId}`, { token: auth.client_token })).status, 403);
    assert.equal((await call('auth/userpass/users?list=true', { token: auth.client_token })).status, 403);
  });

  it('wraps a child token in a single-use wrapping token that expires', async () => {
    bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    const create = () =>
      call('auth/token/create', { token: auth.client_token, body: { ttl: '30m' }, headers: { 'x-vault-wrap-ttl': '5m' } });

    const wrapped = await create();
    assert.equal(wrapped.status, 200);
    assert.equal(wrapped.body.auth, null);
    const info = wrapped.body.wrap_info;
    assert.equal(info.ttl, 300);
    assert.equal(info.creation_path, 'auth/token/create');
    assert.ok(info.accessor && info.wrapped_accessor && info.creation_time);

    const unwrapped = await call('sys/wrapping/unwrap', { token: info.token, method: 'POST' });
    assert.equal(unwrapped.status, 200);
    assert.equal(unwrapped.body.auth.lease_duration, 1800);
    assert.equal(unwrapped.body.auth.entity_id, auth.entity_id);
    assert.equal(unwrapped.body.auth.accessor, info.wrapped_accessor);
    const second = await call('sys/wrapping/unwrap', { token: info.token, method: 'POST' });
    assert.equal(second.status, 400);
    assert.deepEqual(second.body.errors, ['wrapping token is not valid or does not exist']);

    const late = (await create()).body.wrap_info.token;
    bao.advance(300);
    assert.equal((await asService('sys/wrapping/unwrap', { token: late })).status, 400);
  });

  it('revokes children with their parent on revoke-self', async () => {
    bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    const child = (await call('auth/token/create', { token: auth.client_token, body: { ttl: '1h' } })).body.auth.client_token;
    assert.equal((await call('auth/token/revoke-self', { token: auth.client_token, method: 'POST' })).status, 204);
    assert.equal((await call('auth/token/lookup-self', { token: auth.client_token })).status, 403);
    assert.equal((await call('auth/token/lookup-self', { token: child })).status, 403);
    assert.equal(bao.revokedTokens.find((t) => t.id === child)?.revoked, 'parent');
  });

  it('creates orphans without the entity, and they outlive their creator', async () => {
    bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    const orphan = (await call('auth/token/create-orphan', { token: auth.client_token, body: { ttl: '2h' } })).body.auth;
    assert.equal(orphan.entity_id, '');
    assert.equal(orphan.orphan, true);
    const refused = await call('auth/token/create', { token: auth.client_token, body: { no_parent: true } });
    assert.equal(refused.status, 400);
    await call('auth/token/revoke-self', { token: auth.client_token, method: 'POST' });
    assert.equal((await call('auth/token/lookup-self', { token: orphan.client_token })).status, 200);
  });
});

describe('openbao emulator: identity', () => {
  it('shows direct and inherited groups on the entity and updates metadata by replacing it', async () => {
    const staff = bao.addGroup('staff');
    const admins = bao.addGroup('admins', { parents: ['staff'] });
    const entityId = bao.addUser('alice', 'pw', { name: 'Alice', email: 'alice@example.test', groups: ['admins'] });

    const read = await asService(`identity/entity/id/${entityId}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.data.metadata, { name: 'Alice', email: 'alice@example.test' });
    assert.deepEqual(read.body.data.direct_group_ids, [admins]);
    assert.deepEqual(read.body.data.inherited_group_ids, [staff]);
    assert.deepEqual(read.body.data.group_ids, [admins, staff]);
    assert.equal(read.body.data.aliases[0].name, 'alice');
    assert.equal(read.body.data.aliases[0].mount_accessor, bao.userpassAccessor);

    assert.equal((await asService(`identity/entity/id/${entityId}`, { metadata: { consents: '{}' } })).status, 204);
    assert.deepEqual((await asService(`identity/entity/id/${entityId}`)).body.data.metadata, { consents: '{}' });
    assert.equal((await asService('identity/entity/id/00000000-0000-0000-0000-000000000000')).status, 404);
  });

  it('looks an entity up by alias, and answers 204 when there is none', async () => {
    const entityId = bao.addUser('alice', 'pw');
    const found = await asService('identity/lookup/entity', { alias_name: 'alice', alias_mount_accessor: bao.userpassAccessor });
    assert.equal(found.status, 200);
    assert.equal(found.body.data.id, entityId);
    const none = await asService('identity/lookup/entity', { alias_name: 'nobody', alias_mount_accessor: bao.userpassAccessor });
    assert.equal(none.status, 204);
  });

  it('lists groups with names in key_info, and 404 on an empty list', async () => {
    assert.equal((await asService('identity/group/id', undefined, 'LIST')).status, 404);
    const id = bao.addGroup('staff');
    const list = await call('identity/group/id?list=true', { token: bao.serviceToken });
    assert.deepEqual(list.body.data.keys, [id]);
    assert.equal(list.body.data.key_info[id].name, 'staff');
    assert.equal((await asService(`identity/group/id/${id}`)).body.data.name, 'staff');
  });

  it('lists userpass users and changes a password', async () => {
    bao.enforceMfa(false);
    bao.addUser('bob', 'old');
    bao.addUser('alice', 'pw');
    assert.deepEqual((await asService('auth/userpass/users', undefined, 'LIST')).body.data.keys, ['alice', 'bob']);
    assert.equal((await asService('auth/userpass/users/bob/password', { password: 'new' })).status, 204);
    assert.equal((await call('auth/userpass/login/bob', { body: { password: 'old' } })).status, 400);
    assert.equal((await call('auth/userpass/login/bob', { body: { password: 'new' } })).status, 200);
  });
});

describe('openbao emulator: TOTP secrets', () => {
  it('generates a secret once, warns on a second generate, and destroys it', async () => {
    const entityId = bao.addUser('alice', 'pw');
    const body = { method_id: bao.mfaMethodId, entity_id: entityId };
    const first = await asService('identity/mfa/method/totp/admin-generate', body);
    assert.equal(first.status, 200);
    assert.match(first.body.data.url, new RegExp(`^otpauth://totp/OpenBao:${entityId}\\?.*secret=[A-Z2-7]+`));
    assert.ok(Buffer.from(first.body.data.barcode, 'base64').subarray(1, 4).equals(Buffer.from('PNG')));

    const second = await asService('identity/mfa/method/totp/admin-generate', body);
    assert.equal(second.status, 200);
    assert.equal(second.body.data, null);
    assert.match(second.body.warnings[0], /already has a secret/);

    assert.equal((await asService('identity/mfa/method/totp/admin-destroy', body)).status, 204);
    assert.equal(bao.users[0]!.totpEnrolled, false);
  });

  it('lets a user generate a secret for their own entity', async () => {
    bao.enforceMfa(false);
    const entityId = bao.addUser('alice', 'pw');
    const token = (await call('auth/userpass/login/alice', { body: { password: 'pw' } })).body.auth.client_token;
    const res = await call('identity/mfa/method/totp/generate', { token, body: { method_id: bao.mfaMethodId } });
    assert.equal(res.status, 200);
    assert.ok(res.body.data.url.includes(entityId));
    const secret = new URL(res.body.data.url).searchParams.get('secret')!;
    bao.enforceMfa(true);
    assert.ok((await signIn('alice', 'pw', secret)).client_token);
  });
});

describe('openbao emulator: kubernetes credentials', () => {
  it('issues service-account credentials that die with the token that asked for them', async () => {
    bao.addKubernetesRole('developer');
    bao.addUser('alice', 'pw');
    const auth = await signIn('alice', 'pw', bao.enrolTotp('alice'));
    const creds = await call('kubernetes/creds/developer', { token: auth.client_token, body: { kubernetes_namespace: 'team-a' } });
    assert.equal(creds.status, 200);
    assert.equal(creds.body.lease_duration, 3600);
    assert.equal(creds.body.data.service_account_namespace, 'team-a');
    assert.equal(creds.body.data.service_account_token.split('.').length, 3);

    const unknown = await call('kubernetes/creds/nope', { token: auth.client_token, body: { kubernetes_namespace: 'team-a' } });
    assert.equal(unknown.status, 400);

    await call('auth/token/revoke-self', { token: auth.client_token, method: 'POST' });
    assert.equal(bao.leases[0]!.revoked, true);
  });
});
