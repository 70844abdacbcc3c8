import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { IdentityUnavailable } from '../../src/identity/provider.js';
import {
  UnsafePathValue,
  createOpenBaoClient,
  isOpenBaoId,
  isUserpassName,
  type OpenBaoSettings,
} from '../../src/identity/openbao/client.js';
import { startOpenBaoEmulator, type OpenBaoEmulator } from './emulator.js';

const settings = (address: string, token: string, extra: Partial<OpenBaoSettings> = {}): OpenBaoSettings => ({
  address,
  token,
  userpassMount: 'userpass',
  mfaMethodId: '00000000-0000-0000-0000-000000000000',
  adminGroup: 'gatehouse-admins',
  kubernetesMount: 'kubernetes',
  wrapTtl: 300,
  apiTokenTtl: 3600,
  requestTimeoutMs: 300,
  ...extra,
});

/** Every text an error carries, its causes included. */
function texts(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; stack?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    out.push(String(e.message), String(e.stack));
  }
  return out.join('\n');
}

describe('the OpenBao client', () => {
  let bao: OpenBaoEmulator;
  before(async () => {
    bao = await startOpenBaoEmulator();
    bao.addUser('carol', 'carol-password-123');
  });
  after(() => bao.stop());

  it('accepts only UUID-shaped ids, including OpenBao ones without RFC 9562 version bits', () => {
    assert.ok(isOpenBaoId('043fedec-967d-b2c9-d3af-0c467b04e1fd'));
    for (const bad of ['', '../sys/seal', '043fedec-967d-b2c9-d3af-0c467b04e1fd/../x', '043fedec967db2c9d3af0c467b04e1fd', 'user-alice']) {
      assert.equal(isOpenBaoId(bad), false, bad);
    }
  });

  it('accepts only userpass names', () => {
    for (const good of ['carol', 'Carol', 'carol.danvers', 'c_d-2', '_x']) assert.ok(isUserpassName(good), good);
    for (const bad of ['', '-carol', '.carol', 'carol.', 'carol/../x', '..', 'carol@example.org', 'car ol', 'caröl', 'a'.repeat(129)]) {
      assert.equal(isUserpassName(bad), false, bad);
    }
  });

  it('refuses a crafted id or username before any request is made', async () => {
    const client = createOpenBaoClient(settings(bao.url, bao.serviceToken));
    const from = bao.requests.length;
    await assert.rejects(client.readEntity('../../sys/seal'), UnsafePathValue);
    await assert.rejects(client.readGroup('x/../../sys/seal'), UnsafePathValue);
    await assert.rejects(client.destroyTotp(bao.mfaMethodId, '..'), UnsafePathValue);
    await assert.rejects(client.login('userpass', '../token/create', 'x'), UnsafePathValue);
    await assert.rejects(client.setUserpassPassword('userpass', 'carol/../../x', 'x'), UnsafePathValue);
    assert.equal(bao.requests.length, from);
  });

  it('sends no token with a login, and ignores VAULT_* variables', async () => {
    process.env.VAULT_TOKEN = 's.from-the-environment';
    process.env.VAULT_PREFIX = '/prefix';
    try {
      const client = createOpenBaoClient(settings(bao.url, bao.serviceToken));
      const from = bao.requests.length;
      const answer = await client.login('userpass', 'carol', 'carol-password-123');
      assert.equal(answer.kind, 'mfa');
      assert.deepEqual(bao.requests.slice(from), [{ method: 'POST', path: 'auth/userpass/login/carol', status: 200, token: 'none' }]);
    } finally {
      delete process.env.VAULT_TOKEN;
      delete process.env.VAULT_PREFIX;
    }
  });

  it('reports a refused service token as unavailable, without the token in the error', async () => {
    const token = 's.a-secret-service-token';
    const client = createOpenBaoClient(settings(bao.url, token));
    const err = await client.checkServiceToken().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof IdentityUnavailable);
    assert.doesNotMatch(texts(err), new RegExp(token));
  });

  it('gives up after the request timeout, without the password in the error', async () => {
    const hung: Server = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as { port: number };
    try {
      const client = createOpenBaoClient(settings(`http://127.0.0.1:${port}`, 's.service-token'));
      const started = Date.now();
      const err = await client.login('userpass', 'carol', 'the-password-123').then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof IdentityUnavailable);
      assert.ok(Date.now() - started < 3000);
      assert.doesNotMatch(texts(err), /the-password-123|s\.service-token/);
    } finally {
      hung.close();
    }
  });
});
