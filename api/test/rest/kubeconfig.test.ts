import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Kubeconfig, KubeconfigOptions } from '@gatehouse/shared';
import { csrf, harness, ISSUER, ALICE_ID } from '../helpers/harness.js';
import { apiToken, bearer } from '../helpers/admin.js';
import { portalBrowser } from '../helpers/mfa.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const KUBE = { apiUrl: 'https://k8s.example.org:6443', caCert: CA, clusterName: 'prod', oidcClientId: 'kubectl' };

describe('kubeconfig downloads', () => {
  it('makes a kubeconfig in which kubectl signs in through Gatehouse with oidc-login', async () => {
    const h = await harness({ kubernetes: KUBE });
    try {
      const agent = await portalBrowser(h);
      assert.deepEqual(KubeconfigOptions.parse((await agent.get('/api/v1/me/kubeconfig').expect(200)).body), { variants: ['oidc'] });
      const file = Kubeconfig.parse((await agent.post('/api/v1/me/kubeconfig').set(csrf).send({ variant: 'oidc' }).expect(200)).body);
      assert.equal(file.filename, 'kubeconfig-prod.yaml');
      assert.equal(file.expiresAt, null);
      const config = parse(file.content);
      assert.equal(config['current-context'], 'alice@prod');
      assert.equal(config.clusters[0].cluster.server, KUBE.apiUrl);
      assert.equal(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), CA);
      const exec = config.users[0].user.exec;
      assert.equal(exec.command, 'kubectl');
      assert.deepEqual(exec.args.slice(0, 4), ['oidc-login', 'get-token', `--oidc-issuer-url=${ISSUER}`, '--oidc-client-id=kubectl']);
      assert.equal(config.contexts[0].context.namespace, 'default');
    } finally {
      await h.close();
    }
  });

  it('refuses a variant that is not configured, and OpenBao tokens on the SQLite backend', async () => {
    const h = await harness();
    try {
      const agent = await portalBrowser(h);
      assert.deepEqual((await agent.get('/api/v1/me/kubeconfig').expect(200)).body, { variants: [] });
      const oidc = await agent.post('/api/v1/me/kubeconfig').set(csrf).send({ variant: 'oidc' }).expect(501);
      assert.equal(oidc.body.error.code, 'not_supported');
      const openbao = await agent.post('/api/v1/me/kubeconfig').set(csrf).send({ variant: 'openbao' }).expect(501);
      assert.equal(openbao.body.error.code, 'not_supported');
      const bad = await agent.post('/api/v1/me/kubeconfig').set(csrf).send({ variant: 'x509' }).expect(400);
      assert.equal(bad.body.error.code, 'validation_failed');
      // On OpenBao the session's own token makes one (test/openbao/credentials.test.ts).
      const token = await agent.post('/api/v1/me/openbao-token').set(csrf);
      assert.deepEqual([token.status, token.body.error?.code], h.bao ? [201, undefined] : [501, 'not_supported']);
    } finally {
      await h.close();
    }
  });

  it('needs the tokens scope to make one', async () => {
    const h = await harness({ kubernetes: KUBE });
    try {
      const readOnly = await apiToken(h, ALICE_ID, ['profile:read']);
      assert.equal((await bearer(h, readOnly).get('/api/v1/me/kubeconfig').expect(200)).body.variants[0], 'oidc');
      const res = await bearer(h, readOnly).post('/api/v1/me/kubeconfig', { variant: 'oidc' }).expect(403);
      assert.equal(res.body.error.code, 'insufficient_scope');
      await bearer(h, await apiToken(h, ALICE_ID, ['tokens']))
        .post('/api/v1/me/kubeconfig', { variant: 'oidc' })
        .expect(200);
    } finally {
      await h.close();
    }
  });
});
