import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Kubeconfig, WrappedBackendToken } from '@gatehouse/shared';
import { csrf } from '../helpers/harness.js';
import { CAROL_PASSWORD, openBaoHarness, portalSignIn, type OpenBaoHarness } from './fixture.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBemulatorca\n-----END CERTIFICATE-----\n';

describe("OpenBao credentials minted with the user's own token", () => {
  let t: OpenBaoHarness;
  before(async () => {
    t = await openBaoHarness({
      config: { kubernetes: { apiUrl: 'https://k8s.example.org:6443', caCert: CA, role: 'developer', namespace: 'apps' } },
    });
    t.bao.addKubernetesRole('developer', { allowedNamespaces: ['apps'] });
  });
  after(() => t.close());

  /** The newest sign-in's token: the one the latest browser session holds. */
  const sessionToken = () => t.bao.tokens.filter((tok) => tok.kind === 'login' && tok.entityId === t.carol.id && !tok.revoked).at(-1)!;

  it('answers only a wrapping token, whose child token belongs to the session token', async () => {
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    t.advance(600);
    const wrapped = WrappedBackendToken.parse((await agent.post('/api/v1/me/openbao-token').set(csrf).expect(201)).body);
    assert.equal(wrapped.wrapTtl, 300);
    assert.equal(wrapped.tokenTtl, 3600 - 600);

    const unwrapped = await fetch(`${t.bao.url}/v1/sys/wrapping/unwrap`, {
      method: 'POST',
      headers: { 'X-Vault-Token': wrapped.wrappingToken },
    });
    assert.equal(unwrapped.status, 200);
    const { auth } = (await unwrapped.json()) as { auth: { client_token: string; entity_id: string; lease_duration: number } };
    assert.equal(auth.entity_id, t.carol.id);
    assert.equal(auth.lease_duration, 3000);
    const child = t.bao.tokens.find((tok) => tok.id === auth.client_token)!;
    assert.equal(child.parentAccessor, sessionToken().accessor);
    assert.ok(t.h.audit.some((l) => /\bevent=backend_token_create\b/.test(l)));
  });

  it('builds a kubeconfig from the kubernetes secrets engine', async () => {
    const agent = await portalSignIn(t, 'carol', CAROL_PASSWORD, t.carol.secret);
    assert.deepEqual((await agent.get('/api/v1/me/kubeconfig').expect(200)).body, { variants: ['openbao'] });
    const kube = Kubeconfig.parse((await agent.post('/api/v1/me/kubeconfig').set(csrf).send({ variant: 'openbao' }).expect(200)).body);
    const lease = t.bao.leases.at(-1)!;
    assert.equal(lease.role, 'developer');
    assert.equal(lease.namespace, 'apps');
    assert.equal(lease.creatorAccessor, sessionToken().accessor);
    const config = parse(kube.content) as { users: { user: { token: string } }[] };
    assert.equal(config.users[0]!.user.token, lease.serviceAccountToken);
    assert.equal(kube.expiresAt, lease.expiresAt);
  });
});
