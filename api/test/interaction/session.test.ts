import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { CSRF_HEADER, CSRF_HEADER_VALUE, SessionView } from '@gatehouse/shared';
import {
  ISSUER,
  PASSWORD,
  authorize,
  authorizeQuery,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  refreshWith,
  startInteraction,
  type Agent,
  type Harness,
  ALICE_ID,
} from '../helpers/harness.js';

/** Signs alice in on a new browser; returns the browser and the login response's Set-Cookie lines. */
async function signIn(h: Harness, remember?: boolean): Promise<{ agent: Agent; cookies: string[] }> {
  const agent = browser(h);
  const { id } = await startInteraction(agent, confidentialParams());
  const res = await agent
    .post(`/api/v1/interactions/${id}/login`)
    .set(csrf)
    .send({ username: 'alice', password: PASSWORD, ...(remember !== undefined && { remember }) })
    .expect(200);
  return { agent, cookies: setCookies(res.headers['set-cookie']) };
}

function setCookies(header: string | string[] | undefined): string[] {
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

function cookieNamed(cookies: string[], name: string): string {
  const cookie = cookies.find((c) => c.startsWith(`${name}=`));
  assert.ok(cookie, `no ${name} cookie in ${JSON.stringify(cookies)}`);
  return cookie;
}

/** A refresh token for alice on this browser, through the whole code flow. */
async function refreshToken(h: Harness, agent: Agent, scope: string): Promise<string> {
  const url = await authorize(agent, confidentialParams({ scope }));
  const res = await redeem(h, url.searchParams.get('code')!).expect(200);
  assert.ok(res.body.refresh_token);
  return res.body.refresh_token as string;
}

describe('browser session API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  describe('GET /api/v1/session', () => {
    it('answers 401 unauthenticated when nobody is signed in', async () => {
      const res = await request(h.app).get('/api/v1/session').expect(401);
      assert.equal(res.body.error.code, 'unauthenticated');
    });

    it('describes the signed-in user after login, without secrets', async () => {
      const { agent } = await signIn(h);
      const res = await agent.get('/api/v1/session').expect(200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const view = SessionView.parse(res.body);
      assert.deepEqual(view.user, {
        id: ALICE_ID,
        username: 'alice',
        name: 'Alice Liddell',
        email: 'alice@example.org',
        isAdmin: false,
      });
      assert.equal(view.authTime, h.clock.now());
      assert.equal(view.expiresAt, h.clock.now() + h.ctx.config.ttl.sessionAbsolute);
      assert.doesNotMatch(res.text, /argon|passwordHash/i);
    });
  });

  describe('POST /api/v1/session/logout', () => {
    it('refuses a logout without the CSRF header or from a foreign origin', async () => {
      const { agent } = await signIn(h);
      const res = await agent.post('/api/v1/session/logout').set('Origin', ISSUER).expect(403);
      assert.equal(res.body.error.code, 'csrf_rejected');
      await agent
        .post('/api/v1/session/logout')
        .set({ ...csrf, Origin: 'https://evil.example' })
        .expect(403);
      await agent.get('/api/v1/session').expect(200);
    });

    it('ends the session: the session is gone, the cookie cleared and authorize asks for a login again', async () => {
      const { agent } = await signIn(h);
      const res = await agent.post('/api/v1/session/logout').set(csrf).expect(200);
      assert.deepEqual(res.body, { location: 'http://localhost:4000/signed-out' });
      assert.match(cookieNamed(setCookies(res.headers['set-cookie']), 'gatehouse_session'), /Expires=Thu, 01 Jan 1970/);
      assert.ok(h.audit.some((l) => l.includes('event=logout') && l.includes(`user=${ALICE_ID}`)));
      await agent.get('/api/v1/session').expect(401);
      const { screen } = await startInteraction(agent, confidentialParams());
      assert.equal(screen, '/login');
    });

    it('revokes refresh tokens of the session, except those issued with offline_access', async () => {
      const agent = browser(h);
      const online = await refreshToken(h, agent, 'openid profile');
      const offline = await refreshToken(h, agent, 'openid profile offline_access');
      // The online token works while the session lasts; its rotated successor dies with it.
      const rotated = (await refreshWith(h, online).expect(200)).body.refresh_token as string;
      assert.ok(rotated);

      await agent.post('/api/v1/session/logout').set(csrf).expect(200);

      const refused = await refreshWith(h, rotated).expect(400);
      assert.equal(refused.body.error, 'invalid_grant');
      const kept = await refreshWith(h, offline).expect(200);
      assert.ok(kept.body.access_token);
    });
  });

  describe('session cookie', () => {
    it('is HttpOnly, SameSite=Lax, Path=/ and not Secure for an http issuer', async () => {
      const cookie = cookieNamed((await signIn(h)).cookies, 'gatehouse_session');
      assert.match(cookie, /; HttpOnly(;|$)/i);
      assert.match(cookie, /; SameSite=Lax(;|$)/i);
      assert.match(cookie, /; Path=\/(;|$)/);
      assert.doesNotMatch(cookie, /; Secure/i);
      assert.doesNotMatch(cookie, /; Domain=/i);
    });

    it('is a browser-session cookie without remember, and carries a Max-Age with remember', async () => {
      const transient = cookieNamed((await signIn(h, false)).cookies, 'gatehouse_session');
      assert.doesNotMatch(transient, /Max-Age|Expires/i);
      const remembered = cookieNamed((await signIn(h, true)).cookies, 'gatehouse_session');
      assert.match(remembered, new RegExp(`; Max-Age=${h.ctx.config.ttl.sessionAbsolute}(;|$)`));
    });

    it('is named __Host-gatehouse_session and Secure for an https issuer', async () => {
      const issuer = 'https://id.example.org';
      const s = await harness({ issuer });
      try {
        // Secure cookies are not sent back over supertest's plain http, so carry them by hand.
        const first = await request(s.app).get(authorizeQuery(confidentialParams())).expect(303);
        const location = new URL(first.headers.location!);
        assert.equal(`${location.origin}${location.pathname}`, `${issuer}/login`);
        const browserCookie = cookieNamed(setCookies(first.headers['set-cookie']), '__Host-gatehouse_browser');
        const headers = { Origin: issuer, [CSRF_HEADER]: CSRF_HEADER_VALUE, Cookie: browserCookie.split(';')[0]! };

        const res = await request(s.app)
          .post(`/api/v1/interactions/${location.searchParams.get('interaction')}/login`)
          .set(headers)
          .send({ username: 'alice', password: PASSWORD })
          .expect(200);
        const cookie = cookieNamed(setCookies(res.headers['set-cookie']), '__Host-gatehouse_session');
        assert.match(cookie, /; Secure(;|$)/i);
        assert.match(cookie, /; HttpOnly(;|$)/i);
        assert.match(cookie, /; SameSite=Lax(;|$)/i);
        assert.match(cookie, /; Path=\/(;|$)/);
        assert.doesNotMatch(cookie, /; Domain=/i);
        assert.equal(
          setCookies(res.headers['set-cookie']).some((c) => c.startsWith('gatehouse_session=')),
          false,
        );

        const session = await request(s.app).get('/api/v1/session').set('Cookie', cookie.split(';')[0]!).expect(200);
        assert.equal(session.body.user.username, 'alice');
      } finally {
        await s.close();
      }
    });
  });
});
