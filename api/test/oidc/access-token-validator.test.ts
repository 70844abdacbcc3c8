import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { TokenResponse } from '@gatehouse/shared';
import type { IdentityProvider } from '../../src/identity/provider.js';
import { AccessTokenRejected, AccessTokenVerifier, type AccessTokenRejection } from '../../src/oidc/tokens/access-token.js';
import { AccessTokenValidator } from '../../src/oidc/tokens/access-token-validator.js';
import { setDisabled } from '../helpers/directory.js';
import {
  ALICE_ID,
  ISSUER,
  SECRET,
  authorize,
  basic,
  browser,
  confidentialParams,
  harness,
  redeem,
  type Harness,
} from '../helpers/harness.js';

describe('access token validator', () => {
  let h: Harness;
  before(async () => {
    h = await harness({
      clients: [
        {
          client_id: 'grafana',
          client_secret: SECRET,
          name: 'Grafana',
          redirect_uris: ['http://127.0.0.1:8000/cb'],
          consent: 'implicit',
          scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', 'profile:read'],
        },
      ],
    });
  });
  after(() => h.close());

  async function tokens(scope = 'openid profile'): Promise<TokenResponse> {
    const url = await authorize(browser(h), confidentialParams({ scope }));
    return TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body);
  }

  /** A validator of its own over the app's keys and grants, counting the identity reads. */
  function counting() {
    const reads: string[] = [];
    const identity: Pick<IdentityProvider, 'findAccount' | 'findUser'> = {
      findAccount: (id) => (reads.push('account'), h.ctx.identity.findAccount(id)),
      findUser: (id) => (reads.push('user'), h.ctx.identity.findUser(id)),
    };
    const validator = new AccessTokenValidator(new AccessTokenVerifier(h.ctx.keys, ISSUER), h.ctx.storage.grants, identity, h.clock);
    return { validator, reads };
  }

  async function rejection(attempt: Promise<unknown>): Promise<AccessTokenRejection> {
    const err = await attempt.then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessTokenRejected, String(err));
    return err.reason;
  }

  it('answers the claims, times, grant and the account of a live token, reading the user once', async () => {
    const { access_token } = await tokens('openid profile');
    const payload = decodeJwt(access_token);
    const { validator, reads } = counting();
    const valid = await validator.validate(access_token, { load: 'account', scope: 'openid' });
    assert.deepEqual(
      { ...valid.claims, scope: [...valid.claims.scope] },
      { sub: ALICE_ID, clientId: 'grafana', scope: ['openid', 'profile'], grantId: payload.gid },
    );
    assert.equal(valid.exp, payload.exp);
    assert.equal(valid.iat, payload.iat);
    assert.equal(valid.grant.id, payload.gid);
    assert.equal(valid.grant.clientId, 'grafana');
    assert.equal(valid.account.sub, ALICE_ID);
    assert.deepEqual(reads, ['account']);
  });

  it('answers the user summary when asked for it instead', async () => {
    const { access_token } = await tokens('openid');
    const { validator, reads } = counting();
    const valid = await validator.validate(access_token, { load: 'user' });
    assert.equal(valid.user.id, ALICE_ID);
    assert.equal(valid.user.username, 'alice');
    assert.equal('account' in valid, false);
    assert.deepEqual(reads, ['user']);
  });

  it('refuses what Gatehouse did not sign as invalid, and a token past its exp as expired', async () => {
    const { validator, reads } = counting();
    assert.equal(await rejection(validator.validate('not-a-token', { load: 'user' })), 'invalid');
    const { access_token, id_token } = await tokens('openid');
    assert.equal(await rejection(validator.validate(id_token!, { load: 'user' })), 'invalid');
    await validator.validate(access_token, { load: 'user' });
    const { exp } = decodeJwt(access_token);
    h.clock.advance(exp! - h.clock.now());
    assert.equal(await rejection(validator.validate(access_token, { load: 'user' })), 'expired');
    assert.deepEqual(reads, ['user']);
  });

  it('refuses the token of a revoked grant as revoked, without reading the user', async () => {
    const { access_token } = await tokens('openid');
    const { validator, reads } = counting();
    await h.ctx.storage.grants.revoke(decodeJwt(access_token).gid as string, h.clock.now());
    assert.equal(await rejection(validator.validate(access_token, { load: 'account' })), 'revoked');
    assert.deepEqual(reads, []);
  });

  it('refuses a token without the asked scope before reading the user, and a disabled user as user_gone', async () => {
    const withoutProfile = (await tokens('openid')).access_token;
    const { validator, reads } = counting();
    await setDisabled(h, ALICE_ID, true);
    try {
      assert.equal(await rejection(validator.validate(withoutProfile, { load: 'user', scope: 'profile' })), 'insufficient_scope');
      assert.deepEqual(reads, []);
      assert.equal(await rejection(validator.validate(withoutProfile, { load: 'user', scope: 'openid' })), 'user_gone');
      assert.equal(await rejection(validator.validate(withoutProfile, { load: 'account' })), 'user_gone');
    } finally {
      await setDisabled(h, ALICE_ID, false);
    }
  });

  it('identifies its own unexpired tokens for revocation, revoked grant or not, and nothing else', async () => {
    const { access_token, refresh_token } = await tokens('openid');
    const { validator, reads } = counting();
    const gid = decodeJwt(access_token).gid as string;
    assert.deepEqual(await validator.identify(access_token).then((c) => c && { clientId: c.clientId, grantId: c.grantId }), {
      clientId: 'grafana',
      grantId: gid,
    });
    await h.ctx.storage.grants.revoke(gid, h.clock.now());
    assert.equal((await validator.identify(access_token))?.grantId, gid);
    assert.equal(await validator.identify(refresh_token!), undefined);
    assert.equal(await validator.identify('not-a-token'), undefined);
    h.clock.advance(h.ctx.config.ttl.accessToken);
    assert.equal(await validator.identify(access_token), undefined);
    assert.deepEqual(reads, []);
  });

  it('is one per app: userinfo, the REST API and revocation share its verification cache', async () => {
    const { access_token } = await tokens('openid profile:read');
    const keys = h.ctx.keys;
    const original = keys.verifier.bind(keys);
    let verifications = 0;
    keys.verifier = (kid) => (verifications++, original(kid));
    try {
      await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${access_token}`).expect(200);
      await request(h.app).get('/api/v1/me').set('Authorization', `Bearer ${access_token}`).expect(200);
      await request(h.app)
        .post('/oauth2/revoke')
        .set('Authorization', basic('grafana', SECRET))
        .type('form')
        .send({ token: access_token })
        .expect(200);
      assert.equal(verifications, 1);
      await request(h.app).get('/api/v1/me').set('Authorization', `Bearer ${access_token}`).expect(401);
    } finally {
      keys.verifier = original;
    }
  });
});
