import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Keystore } from '../../src/oidc/tokens/keystore.js';
import { AccessTokenRejected, AccessTokenVerifier, signAccessToken } from '../../src/oidc/tokens/access-token.js';
import { ISSUER, harness, type Harness, ALICE_ID } from '../helpers/harness.js';

describe('access token verifier cache', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  /** The harness keystore, counting the full verifications (each looks up the key by kid). */
  function countingKeys(): { keys: Keystore; verifications: () => number } {
    let n = 0;
    const keys = Object.create(h.ctx.keys) as Keystore;
    keys.verifier = (kid) => {
      n++;
      return h.ctx.keys.verifier(kid);
    };
    return { keys, verifications: () => n };
  }

  const token = (jti: string, now = h.clock.now(), ttl = 300) =>
    signAccessToken(h.ctx.keys, {
      issuer: ISSUER,
      alg: 'ES256',
      sub: ALICE_ID,
      clientId: 'grafana',
      scope: ['openid', 'profile'],
      grantId: 'grant-1',
      authTime: now,
      jti,
      now,
      ttl,
    });

  it('verifies a token once, then answers from the cache until it expires', async () => {
    const { keys, verifications } = countingKeys();
    const verifier = new AccessTokenVerifier(keys, ISSUER);
    const now = h.clock.now();
    const t = await token('a', now, 300);
    const claims = await verifier.verify(t, now);
    assert.deepEqual(
      { ...claims, scope: [...claims.scope] },
      { sub: ALICE_ID, clientId: 'grafana', scope: ['openid', 'profile'], grantId: 'grant-1' },
    );
    assert.equal(await verifier.verify(t, now + 299), claims);
    assert.equal(verifications(), 1);
    // At exp the token is expired (jose: exp <= now), cached or not; and it stays refused.
    await assert.rejects(verifier.verify(t, now + 300), AccessTokenRejected);
    await assert.rejects(verifier.verify(t, now + 300), AccessTokenRejected);
    assert.equal(verifications(), 3);
  });

  it('never caches a refused token', async () => {
    const { keys, verifications } = countingKeys();
    const verifier = new AccessTokenVerifier(keys, ISSUER);
    const t = await token('b');
    const tampered = `${t.slice(0, -4)}${t.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await assert.rejects(verifier.verify(tampered, h.clock.now()), AccessTokenRejected);
    await assert.rejects(verifier.verify(tampered, h.clock.now()), AccessTokenRejected);
    assert.equal(verifications(), 2);
  });

  it('keeps at most maxEntries tokens, dropping the least recently used', async () => {
    const { keys, verifications } = countingKeys();
    const verifier = new AccessTokenVerifier(keys, ISSUER, 2);
    const now = h.clock.now();
    const [t1, t2, t3] = await Promise.all([token('1'), token('2'), token('3')]);
    await verifier.verify(t1, now);
    await verifier.verify(t2, now);
    await verifier.verify(t1, now); // hit: t1 is now the most recent
    assert.equal(verifications(), 2);
    await verifier.verify(t3, now); // drops t2
    await verifier.verify(t1, now); // still cached
    assert.equal(verifications(), 3);
    await verifier.verify(t2, now); // verified again, drops t3
    assert.equal(verifications(), 4);
    await verifier.verify(t1, now);
    assert.equal(verifications(), 4);
  });
});
