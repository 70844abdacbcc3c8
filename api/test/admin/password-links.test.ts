import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { CreatedUser, PasswordLink, PasswordLinkPreview, TokenResponse } from '@gatehouse/shared';
import { sha256 } from '../../src/lib/hash.js';
import { setDisabled } from '../helpers/directory.js';
import { adminBrowser, adminId } from '../helpers/admin.js';
import {
  ISSUER,
  PASSWORD,
  authorize,
  browser,
  confidentialParams,
  csrf,
  harness,
  redeem,
  refreshWith,
  type Agent,
  type Harness,
  ALICE_ID,
  itManagingUsers,
} from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

const NEW_PASSWORD = 'set-by-link-password-1';
const UNUSABLE = /This link is not valid/;

function errorOf(res: { body: unknown }): { code: string; message: string; details?: unknown } {
  return (res.body as { error: { code: string; message: string; details?: unknown } }).error;
}

async function linkFor(admin: Agent, user = 'alice'): Promise<{ link: PasswordLink; token: string }> {
  const res = await admin.post(`/api/v1/admin/users/${user}/password-link`).set(csrf);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const link = PasswordLink.parse(res.body);
  return { link, token: link.url.split('#')[1]! };
}

const lookup = (h: Harness, token: string) => request(h.app).post('/api/v1/password-link/lookup').send({ token });
const use = (h: Harness, token: string, password = NEW_PASSWORD) => request(h.app).post('/api/v1/password-link').send({ token, password });

const signInStatus = async (h: Harness, username: string, password: string) =>
  (await browser(h).post('/api/v1/session').set(csrf).send({ username, password })).status;

/** The one answer for every link that cannot be used. */
function assertUnusable(res: { status: number; body: unknown }): void {
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(errorOf(res).code, 'not_found');
  assert.match(errorOf(res).message, UNUSABLE);
}

describe('password links', () => {
  it('an admin makes a one-time link, shown once and stored only as its hash, audited', async () => {
    const h = await harness();
    try {
      const { link, token } = await linkFor(await adminBrowser(h));
      assert.match(link.url, new RegExp(`^${ISSUER}/reset-password#[A-Za-z0-9_-]{43}$`));
      assert.equal(link.expiresAt, h.clock.now() + h.ctx.config.passwordLinkTtl);
      assert.ok(await h.ctx.storage.passwordLinks.findUsable(sha256(token), h.clock.now()));
      const line = h.audit.find((l) => l.includes('event=password_link_create'));
      assert.ok(line);
      assert.match(line, new RegExp(`user=${ALICE_ID}`));
      assert.match(line, new RegExp(`actor=${await adminId(h)}`));
      assert.ok(
        h.audit.every((l) => !l.includes(token)),
        'the token is never logged',
      );
    } finally {
      await h.close();
    }
  });

  it('only admins with admin:write make links; unknown users are 404', async () => {
    const h = await harness();
    try {
      const alice = await portalBrowser(h);
      const res = await alice.post('/api/v1/admin/users/alice/password-link').set(csrf).expect(403);
      assert.equal(errorOf(res).code, 'insufficient_scope');
      await (await adminBrowser(h)).post('/api/v1/admin/users/nobody/password-link').set(csrf).expect(404);
    } finally {
      await h.close();
    }
  });

  it('the link shows whose it is, sets the password once, and ends the sessions and tokens of the user', async () => {
    const h = await harness();
    try {
      const { link, token } = await linkFor(await adminBrowser(h));
      const aliceBrowser = await portalBrowser(h);
      const url = await authorize(browser(h), confidentialParams());
      const tokens = TokenResponse.parse((await redeem(h, url.searchParams.get('code')!).expect(200)).body);

      const preview = PasswordLinkPreview.parse((await lookup(h, token).expect(200)).body);
      assert.deepEqual(preview, { username: 'alice', expiresAt: link.expiresAt });
      await use(h, token).expect(204);

      assert.equal(await signInStatus(h, 'alice', NEW_PASSWORD), 200);
      assert.equal(await signInStatus(h, 'alice', PASSWORD), 401);
      assert.equal((await aliceBrowser.get('/api/v1/me')).status, 401, 'her sessions ended');
      assert.equal((await refreshWith(h, tokens.refresh_token!).expect(400)).body.error, 'invalid_grant');
      const line = h.audit.find((l) => l.includes('event=password_link_used'));
      assert.ok(line);
      assert.match(line, new RegExp(`user=${ALICE_ID}`));
      assert.ok(h.audit.every((l) => !l.includes(NEW_PASSWORD) && !l.includes(token)));

      assertUnusable(await lookup(h, token));
      assertUnusable(await use(h, token, 'yet-another-password-2'));
      assert.equal(await signInStatus(h, 'alice', NEW_PASSWORD), 200, 'the second use changed nothing');
    } finally {
      await h.close();
    }
  });

  it('two uses at once: exactly one sets the password', async () => {
    const h = await harness();
    try {
      const { token } = await linkFor(await adminBrowser(h));
      const results = await Promise.all([use(h, token, 'first-racing-password'), use(h, token, 'second-racing-password')]);
      assert.deepEqual(results.map((r) => r.status).sort(), [204, 404]);
      const winner = results[0]!.status === 204 ? 'first-racing-password' : 'second-racing-password';
      assert.equal(await signInStatus(h, 'alice', winner), 200);
    } finally {
      await h.close();
    }
  });

  it('expires', async () => {
    const h = await harness();
    try {
      const { token } = await linkFor(await adminBrowser(h));
      h.clock.advance(h.ctx.config.passwordLinkTtl - 1);
      await lookup(h, token).expect(200);
      h.clock.advance(1);
      assertUnusable(await lookup(h, token));
      assertUnusable(await use(h, token));
      assert.equal(await signInStatus(h, 'alice', PASSWORD), 200);
    } finally {
      await h.close();
    }
  });

  it('a new link voids the earlier unused one', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const first = await linkFor(admin);
      const second = await linkFor(admin);
      assertUnusable(await lookup(h, first.token));
      assertUnusable(await use(h, first.token));
      await use(h, second.token).expect(204);
    } finally {
      await h.close();
    }
  });

  it('answers the same for unknown tokens and disabled users, and refuses malformed ones', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const { token } = await linkFor(admin);
      assertUnusable(await lookup(h, h.ctx.random.token(32)));
      assertUnusable(await use(h, h.ctx.random.token(32)));

      await setDisabled(h, ALICE_ID, true);
      assertUnusable(await lookup(h, token));
      assertUnusable(await use(h, token));
      const refused = await admin.post('/api/v1/admin/users/alice/password-link').set(csrf).expect(409);
      assert.match(errorOf(refused).message, /disabled/);
      await setDisabled(h, ALICE_ID, false);
      await use(h, token).expect(204);

      assert.equal(errorOf(await lookup(h, 'short').expect(400)).code, 'validation_failed');
      const weak = await use(h, h.ctx.random.token(32), 'short').expect(400);
      assert.equal(errorOf(weak).code, 'validation_failed');
      await request(h.app).post('/api/v1/password-link').send({}).expect(400);
    } finally {
      await h.close();
    }
  });

  itManagingUsers('a user created without a password sets one with the link from the answer', async () => {
    const h = await harness();
    try {
      const admin = await adminBrowser(h);
      const created = CreatedUser.parse((await admin.post('/api/v1/admin/users').set(csrf).send({ username: 'newbie' }).expect(201)).body);
      const token = created.passwordLink!.url.split('#')[1]!;
      assert.equal(PasswordLinkPreview.parse((await lookup(h, token).expect(200)).body).username, 'newbie');
      await use(h, token).expect(204);
      assert.equal(await signInStatus(h, 'newbie', NEW_PASSWORD), 200);
    } finally {
      await h.close();
    }
  });

  it('is limited per IP', async () => {
    const h = await harness({ rateLimit: { login: 2, windowSeconds: 60 } });
    try {
      const token = h.ctx.random.token(32);
      assertUnusable(await lookup(h, token));
      assertUnusable(await use(h, token));
      const limited = await lookup(h, token).expect(429);
      assert.equal(errorOf(limited).code, 'rate_limited');
    } finally {
      await h.close();
    }
  });
});
