import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { OAuthErrorBody, TokenResponse, UserinfoClaims } from '@gatehouse/shared';
import { ISSUER, authorize, browser, confidentialParams, harness, redeem, type Harness, ALICE_ID } from '../helpers/harness.js';

/**
 * Userinfo is answered before Express (hot-routes.ts); these pin what the Express stack it
 * replaced did around the handler: the per-IP limit with express-rate-limit's headers (compared
 * with a route Express still limits with the same settings), the client IP as req.ip finds it,
 * the form body limit, CORS and the security headers.
 */
async function accessToken(h: Harness): Promise<string> {
  const url = await authorize(browser(h), confidentialParams({ scope: 'openid' }));
  return TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body).access_token;
}

const LIMIT = 3;

describe('userinfo: rate limit', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    // Signing in takes more /api requests than the limit allows: mint the token first, then
    // restart on the same data (keys, grants) with the low limit.
    const first = await harness();
    token = await accessToken(first);
    await first.close(true);
    h = await harness({ rateLimit: { api: LIMIT, windowSeconds: 120 } }, first.dataDir);
  });
  after(() => h.close());

  it('counts GET, POST and HEAD per IP with draft-8 RateLimit headers, then answers 429 in the OAuth error shape', async () => {
    const send = [
      () => request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${token}`),
      () => request(h.app).post('/oauth2/userinfo').type('form').send({ access_token: token }),
      () => request(h.app).head('/oauth2/userinfo').set('Authorization', `Bearer ${token}`),
    ];
    for (let i = 0; i < LIMIT; i++) {
      const res = await send[i]!().expect(200);
      assert.match(res.headers.ratelimit!, new RegExp(`^"${LIMIT}-in-2min"; r=${LIMIT - 1 - i}; t=(120|119)$`));
      assert.match(res.headers['ratelimit-policy']!, new RegExp(`^"${LIMIT}-in-2min"; q=${LIMIT}; w=120; pk=:[A-Za-z0-9+/=]+:$`));
      assert.equal(res.headers['retry-after'], undefined);
    }
    const res = await send[0]!().expect(429);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.match(res.headers['retry-after']!, /^(120|119)$/);
    assert.match(res.headers.ratelimit!, /; r=0; /);
    assert.equal(res.headers['www-authenticate'], undefined);
    assert.deepEqual(res.body, { error: 'temporarily_unavailable', error_description: 'Too many requests. Retry later.' });
  });

  it('sends the same RateLimit-Policy as express-rate-limit does for the same settings and client', async () => {
    // /api is limited by express-rate-limit with the same `api` settings (its own counter).
    const viaExpress = await request(h.app).get('/api/no-such-endpoint');
    const hot = await request(h.app).get('/oauth2/userinfo');
    assert.ok(viaExpress.headers['ratelimit-policy']);
    assert.equal(hot.headers['ratelimit-policy'], viaExpress.headers['ratelimit-policy']);
  });

  it('does not count CORS preflights, and answers them as before', async () => {
    const other = await harness({ rateLimit: { api: 1, windowSeconds: 60 } });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await request(other.app).options('/oauth2/userinfo').expect(204);
        assert.equal(res.headers['access-control-allow-origin'], '*');
        assert.equal(res.headers['access-control-allow-methods'], 'GET, POST');
        assert.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type');
        assert.equal(res.headers['access-control-max-age'], '600');
        assert.equal(res.headers.ratelimit, undefined);
        assert.equal(res.text, '');
      }
      await request(other.app).get('/oauth2/userinfo').expect(401);
    } finally {
      await other.close();
    }
  });
});

describe('userinfo: client IP', () => {
  const fromIp = (h: Harness, ip: string) => request(h.app).get('/oauth2/userinfo').set('X-Forwarded-For', ip);
  const remaining = (res: request.Response) => Number(/; r=(\d+);/.exec(res.headers.ratelimit!)![1]);

  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    const h = await harness({ rateLimit: { api: 10, windowSeconds: 60 } });
    try {
      assert.equal(remaining(await fromIp(h, '203.0.113.1')), 9);
      assert.equal(remaining(await fromIp(h, '203.0.113.2')), 8);
    } finally {
      await h.close();
    }
  });

  it('keys on the forwarded address from a trusted proxy, as req.ip does, with IPv6 /56 subnets', async () => {
    const h = await harness({ rateLimit: { api: 10, windowSeconds: 60 }, trustProxy: 'loopback' });
    try {
      assert.equal(remaining(await fromIp(h, '203.0.113.1')), 9);
      assert.equal(remaining(await fromIp(h, '203.0.113.1')), 8);
      assert.equal(remaining(await fromIp(h, '203.0.113.2')), 9);
      // The client behind an untrusted hop is that hop, as Express finds it.
      assert.equal(remaining(await fromIp(h, '198.51.100.9, 203.0.113.2')), 8);
      assert.equal(remaining(await fromIp(h, '2001:db8:0:1::1')), 9);
      assert.equal(remaining(await fromIp(h, '2001:db8:0:2::1')), 8);
      // The partition key is express-rate-limit's for the same address.
      const viaExpress = await request(h.app).get('/api/no-such-endpoint').set('X-Forwarded-For', '203.0.113.77');
      const hot = await fromIp(h, '203.0.113.77');
      assert.equal(hot.headers['ratelimit-policy'], viaExpress.headers['ratelimit-policy']);
    } finally {
      await h.close();
    }
  });

  it('trusts a hop count as Express does', async () => {
    const h = await harness({ rateLimit: { api: 10, windowSeconds: 60 }, trustProxy: 1 });
    try {
      assert.equal(remaining(await fromIp(h, '198.51.100.1, 203.0.113.5')), 9);
      assert.equal(remaining(await fromIp(h, '198.51.100.2, 203.0.113.5')), 8);
      assert.equal(remaining(await fromIp(h, '203.0.113.6')), 9);
    } finally {
      await h.close();
    }
  });
});

describe('userinfo: request handling', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await harness();
    token = await accessToken(h);
  });
  after(() => h.close());

  it('refuses a form body over 16kb, and one in an unsupported charset, as invalid_request', async () => {
    const big = await request(h.app)
      .post('/oauth2/userinfo')
      .type('form')
      .send({ access_token: token, padding: 'a'.repeat(17 * 1024) })
      .expect(400);
    assert.equal(big.headers['cache-control'], 'no-store');
    assert.deepEqual(OAuthErrorBody.parse(big.body), {
      error: 'invalid_request',
      error_description: 'The request body could not be read.',
    });
    const charset = await request(h.app)
      .post('/oauth2/userinfo')
      .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
      .send(`access_token=${token}`)
      .expect(400);
    assert.equal(OAuthErrorBody.parse(charset.body).error, 'invalid_request');
  });

  it('accepts a body of just under 16kb', async () => {
    const res = await request(h.app)
      .post('/oauth2/userinfo')
      .type('form')
      .send({ access_token: token, padding: 'a'.repeat(15 * 1024) })
      .expect(200);
    assert.deepEqual(UserinfoClaims.parse(res.body), { sub: ALICE_ID });
  });

  it('ignores a JSON body (not a form), so the token is missing', async () => {
    const res = await request(h.app).post('/oauth2/userinfo').send({ access_token: token }).expect(401);
    assert.equal(res.headers['www-authenticate'], `Bearer realm="${ISSUER}"`);
  });

  it('answers HEAD like GET without a body, and paths as Express matches them', async () => {
    const head = await request(h.app).head('/oauth2/userinfo').set('Authorization', `Bearer ${token}`).expect(200);
    assert.equal(head.text, undefined);
    assert.ok(Number(head.headers['content-length']) > 0);
    await request(h.app).get('/OAuth2/UserInfo/?x=1').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('sends the security headers of the Express application', async () => {
    const viaExpress = await request(h.app).get('/api/no-such-endpoint');
    const hot = await request(h.app).get('/oauth2/userinfo').set('Authorization', `Bearer ${token}`);
    const skip = new Set([
      'date',
      'connection',
      'content-type',
      'content-length',
      'ratelimit',
      'ratelimit-policy',
      'cache-control',
      'pragma',
      'access-control-allow-origin',
      'cross-origin-resource-policy',
    ]);
    const security = (res: request.Response) => Object.fromEntries(Object.entries(res.headers).filter(([k]) => !skip.has(k)));
    assert.ok(security(hot)['content-security-policy']);
    assert.deepEqual(security(hot), security(viaExpress));
    assert.equal(hot.headers['cross-origin-resource-policy'], 'cross-origin');
  });

  it('leaves other methods to Express (404 with CORS headers, as before)', async () => {
    const res = await request(h.app).put('/oauth2/userinfo').expect(404);
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });
});
