import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import {
  SECRET,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  refreshWith,
  type Agent,
  type Harness,
} from '../helpers/harness.js';

const LOGGED_OUT = 'https://grafana.example.org/logged-out';

/** A signed-in browser with tokens for grafana (offline_access: the refresh token outlives the session). */
async function signedIn(h: Harness, scope = 'openid') {
  const agent = browser(h);
  const url = await authorize(agent, confidentialParams({ scope }));
  const tokens = (await redeem(h, url.searchParams.get('code')!).expect(200)).body as { id_token: string; refresh_token: string };
  return { agent, tokens };
}

const endSession = (agent: Agent, params: Record<string, string>) => agent.get(`/oauth2/end_session?${new URLSearchParams(params)}`);

describe('RP-initiated logout (end_session_endpoint)', () => {
  const config = {
    clients: [
      {
        client_id: 'grafana',
        client_secret: SECRET,
        name: 'Grafana',
        redirect_uris: ['http://127.0.0.1:8000/cb'],
        post_logout_redirect_uris: [LOGGED_OUT],
        consent: 'implicit' as const,
      },
    ],
  };

  it('is advertised in discovery', async () => {
    const h = await harness(config);
    try {
      const doc = (await request(h.app).get('/.well-known/openid-configuration')).body;
      assert.equal(doc.end_session_endpoint, 'http://localhost:4000/oauth2/end_session');
    } finally {
      await h.close();
    }
  });

  it('signs out at once with an id_token_hint of this session, and returns to the registered URI with state', async () => {
    const h = await harness(config);
    try {
      const { agent, tokens } = await signedIn(h);
      const res = await endSession(agent, { id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGGED_OUT, state: 'xyz' }).expect(
        303,
      );
      assert.equal(res.headers.location, `${LOGGED_OUT}?state=xyz`);
      await agent.get('/api/v1/session').expect(401);
      assert.equal((await refreshWith(h, tokens.refresh_token).expect(400)).body.error, 'invalid_grant', 'session-bound tokens end');
      assert.ok(h.audit.some((l) => l.includes('event=logout') && l.includes('via=rp')));
    } finally {
      await h.close();
    }
  });

  it('asks the person first without a hint of this session, and keeps them signed in until they confirm', async () => {
    const h = await harness(config);
    try {
      const { agent } = await signedIn(h);
      const res = await endSession(agent, { client_id: 'grafana', post_logout_redirect_uri: LOGGED_OUT, state: 's' }).expect(303);
      const confirm = new URL(res.headers.location!);
      assert.equal(confirm.pathname, '/logout');
      assert.equal(confirm.searchParams.get('post_logout_redirect_uri'), LOGGED_OUT);
      await agent.get('/api/v1/session').expect(200);
      const done = await agent
        .post('/api/v1/session/logout')
        .set(csrf)
        .send({ clientId: 'grafana', postLogoutRedirectUri: LOGGED_OUT, state: 's' })
        .expect(200);
      assert.deepEqual(done.body, { location: `${LOGGED_OUT}?state=s` });
      await agent.get('/api/v1/session').expect(401);
    } finally {
      await h.close();
    }
  });

  it('never redirects to an unregistered URI: an error page instead, and nobody is signed out', async () => {
    const h = await harness(config);
    try {
      const { agent, tokens } = await signedIn(h);
      const cases: Record<string, string>[] = [
        { id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://evil.example/' },
        { post_logout_redirect_uri: LOGGED_OUT },
        { client_id: 'grafana', post_logout_redirect_uri: `${LOGGED_OUT}/` },
        { id_token_hint: 'garbage', post_logout_redirect_uri: LOGGED_OUT },
        { id_token_hint: tokens.id_token, client_id: 'cli', post_logout_redirect_uri: LOGGED_OUT },
      ];
      for (const params of cases) {
        const res = await endSession(agent, params).expect(400);
        assert.equal(res.headers.location, undefined, JSON.stringify(params));
        assert.match(res.headers['content-type'] ?? '', /html/);
      }
      await agent.get('/api/v1/session').expect(200);
      const api = await agent
        .post('/api/v1/session/logout')
        .set(csrf)
        .send({ clientId: 'grafana', postLogoutRedirectUri: 'https://evil.example/' })
        .expect(400);
      assert.equal(api.body.error.code, 'validation_failed');
      await agent.get('/api/v1/session').expect(200);
    } finally {
      await h.close();
    }
  });

  it('accepts an expired id_token_hint, and sends a browser with no session straight on', async () => {
    const h = await harness(config);
    try {
      const { agent, tokens } = await signedIn(h);
      h.clock.advance(2 * 3600);
      await agent.get('/api/v1/session').expect(200);
      const res = await endSession(agent, { id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGGED_OUT }).expect(303);
      assert.equal(res.headers.location, LOGGED_OUT);
      const again = await endSession(agent, { id_token_hint: tokens.id_token }).expect(303);
      assert.equal(again.headers.location, 'http://localhost:4000/signed-out');
    } finally {
      await h.close();
    }
  });

  it('answers the signed-out page when no application asked', async () => {
    const h = await harness(config);
    try {
      const { agent } = await signedIn(h);
      const res = await agent.post('/api/v1/session/logout').set(csrf).send({}).expect(200);
      assert.deepEqual(res.body, { location: 'http://localhost:4000/signed-out' });
    } finally {
      await h.close();
    }
  });
});
