import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import request from 'supertest';
import { CSRF_HEADER, CSRF_HEADER_VALUE } from '@gatehouse/shared';
import { IdentityUnavailable } from '../../src/identity/provider.js';
import { sha256 } from '../../src/lib/hash.js';
import { ADMIN_PASSWORD, ALICE_ID, PASSWORD, browser, csrf, harness, type Agent, type Harness } from '../helpers/harness.js';
import { enrolTotp, portalBrowser, totp } from '../helpers/mfa.js';

const BURST = 16;

/**
 * Holds each check of a password or code until all `total` requests are either being checked
 * or answered: the checks overlap as far as the server lets them, whatever the timing.
 */
function gate(total: number) {
  let held = 0;
  let answered = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const check = () => {
    if (held + answered >= total) open();
  };
  return {
    get held() {
      return held;
    },
    async hold(): Promise<void> {
      held++;
      check();
      await opened;
    },
    answered<T>(response: T): T {
      answered++;
      check();
      return response;
    },
  };
}

/** Password checks go through the gate from here on. */
function gatePasswords(h: Harness, g: ReturnType<typeof gate>): void {
  const original = h.ctx.identity.authenticate.bind(h.ctx.identity);
  h.ctx.identity.authenticate = async (login, password) => {
    await g.hold();
    return original(login, password);
  };
}

/** A portal sign-in from a browser without cookies. */
const signInFresh = (h: Harness, password: string) =>
  request(h.app).post('/api/v1/session').set(csrf).send({ username: 'alice', password });

/** A portal sign-in from this browser. */
const signIn = (agent: Agent, password: string, username = 'alice') => agent.post('/api/v1/session').set(csrf).send({ username, password });

/** `BURST` wrong passwords for alice at once from browsers without cookies; the statuses. */
async function burst(h: Harness): Promise<number[]> {
  const g = gate(BURST);
  gatePasswords(h, g);
  return Promise.all(Array.from({ length: BURST }, () => signInFresh(h, 'wrong').then((r) => g.answered(r.status))));
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

function deviceCookieOf(res: { headers: Record<string, unknown> }, name = 'gatehouse_device'): string | undefined {
  const header = res.headers['set-cookie'];
  const cookies = header === undefined ? [] : Array.isArray(header) ? (header as string[]) : [String(header)];
  return cookies.find((c) => c.startsWith(`${name}=`));
}

const NEW_ALICE_PASSWORD = 'the-new-alice-password';

/** alice is renamed and a new user takes her login name; answers the new user. */
async function nameChangesHands(h: Harness): Promise<{ id: string }> {
  await h.ctx.identity.directory.updateUser(ALICE_ID, { username: 'alice-old', email: null });
  return h.ctx.identity.directory.createUser({
    username: 'alice',
    email: null,
    name: null,
    password: NEW_ALICE_PASSWORD,
    isAdmin: false,
    groupIds: [],
  });
}

/** The stored device cookies: hash and user. */
async function deviceRows(h: Harness): Promise<{ hash: string; userId: string }[]> {
  const raw = new BetterSqlite3(path.join(h.dataDir, 'gatehouse.db'), { readonly: true });
  try {
    const rows = raw.prepare('select token_hash, user_id from device_cookies order by token_hash').all() as {
      token_hash: string;
      user_id: string;
    }[];
    return rows.map((r) => ({ hash: r.token_hash, userId: r.user_id }));
  } finally {
    raw.close();
  }
}

/** The owner's browser: signed in once (so it carries a device cookie), then signed out. */
async function ownersBrowser(h: Harness, username = 'alice', password = PASSWORD): Promise<Agent> {
  const agent = browser(h);
  const res = await signIn(agent, password, username).expect(200);
  assert.ok(deviceCookieOf(res), 'a correct password sets a device cookie');
  await agent.post('/api/v1/session/logout').set(csrf).send({}).expect(200);
  return agent;
}

describe('concurrent guesses', () => {
  it('checks at most the free failures plus the one the back-off allows of 16 concurrent wrong passwords; the rest get 429 unchecked', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const g = gate(BURST);
      gatePasswords(h, g);
      const statuses = await Promise.all(Array.from({ length: BURST }, () => signInFresh(h, 'wrong').then((r) => g.answered(r.status))));
      const checked = count(statuses, 401);
      const { freeFailures } = h.ctx.config.throttle;
      assert.ok(checked >= 1 && checked <= freeFailures + 1, `${checked} of ${BURST} passwords were checked`);
      assert.equal(count(statuses, 429), BURST - checked, JSON.stringify(statuses));
      assert.equal(g.held, checked, 'a refused attempt never reaches the password check');
      assert.equal(h.audit.filter((l) => l.includes('event=login_failure')).length, checked);
      // Sequentially the same number gets through.
      assert.equal((await signInFresh(h, PASSWORD)).status, 429);
    } finally {
      await h.close();
    }
  });

  it('reserves concurrent wrong TOTP codes the same way', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const { secret } = await enrolTotp(h, await portalBrowser(h));
      const agent = browser(h);
      assert.equal((await signIn(agent, PASSWORD).expect(200)).body.status, 'mfa_required');
      const g = gate(BURST);
      const original = h.ctx.identity.completeLogin.bind(h.ctx.identity);
      h.ctx.identity.completeLogin = async (...args) => {
        await g.hold();
        return original(...args);
      };
      const wrong = await totp(h, secret, 10);
      const statuses = await Promise.all(
        Array.from({ length: BURST }, () =>
          agent
            .post('/api/v1/session/mfa')
            .set(csrf)
            .send({ code: wrong })
            .then((r) => g.answered(r.status)),
        ),
      );
      const checked = g.held;
      assert.ok(checked >= 1 && checked <= h.ctx.config.throttle.freeFailures + 1, `${checked} codes were checked`);
      assert.equal(count(statuses, 429), BURST - checked, JSON.stringify(statuses));
      assert.equal(h.audit.filter((l) => l.includes('event=mfa_failure')).length, checked);
    } finally {
      await h.close();
    }
  });
});

describe('attempts that end without an answer', () => {
  /** The backend fails every password check from here on, before or after judging the password. */
  function failPasswordChecks(h: Harness, afterVerdict: boolean): void {
    h.ctx.identity.authenticate = () => Promise.reject(new IdentityUnavailable(new Error('gone'), { afterVerdict }));
  }
  const failures = async (h: Harness, key: string) => (await h.ctx.storage.mfa.findThrottle(key))?.failures ?? 0;

  it('gives back a sign-in attempt the backend could not be asked about, and keeps one it failed after judging', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      await signInFresh(h, 'wrong').expect(401);
      assert.equal(await failures(h, 'login:alice'), 1);

      failPasswordChecks(h, false);
      assert.equal((await signInFresh(h, PASSWORD).expect(503)).body.error.code, 'unavailable');
      assert.equal(await failures(h, 'login:alice'), 1, 'an unasked attempt is given back');

      failPasswordChecks(h, true);
      assert.equal((await signInFresh(h, PASSWORD).expect(503)).body.error.code, 'unavailable');
      assert.equal(await failures(h, 'login:alice'), 2, 'a judged attempt counts, though its answer is 503');
    } finally {
      await h.close();
    }
  });

  it('keeps a re-authentication attempt the backend failed after judging the password', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const agent = await portalBrowser(h);
      const change = () =>
        agent.post('/api/v1/me/password').set(csrf).send({ currentPassword: PASSWORD, newPassword: 'a-brand-new-password-1' }).expect(503);
      const sessionId = (await h.ctx.storage.sessions.listOpenExcept(ALICE_ID, null))[0]!.id;
      failPasswordChecks(h, false);
      await change();
      assert.equal(await failures(h, `reauth:session:${sessionId}`), 0);
      failPasswordChecks(h, true);
      await change();
      assert.equal(await failures(h, `reauth:session:${sessionId}`), 1);
    } finally {
      await h.close();
    }
  });
});

describe('device cookies', () => {
  it("lets the owner's browser sign in at once after a stranger's burst, and keeps the stranger waiting", async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const owner = await ownersBrowser(h);
      const statuses = await burst(h);
      assert.ok(count(statuses, 429) > 0);
      assert.equal((await signInFresh(h, PASSWORD)).status, 429, 'a new browser must wait, even with the password');

      const res = await signIn(owner, PASSWORD).expect(200);
      assert.equal(res.body.status, 'signed_in');
      assert.equal((await signInFresh(h, 'wrong')).status, 429, "the owner's success does not let the stranger go on");
    } finally {
      await h.close();
    }
  });

  it("does not help a browser whose device cookie is another user's", async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const admins = await ownersBrowser(h, 'admin', ADMIN_PASSWORD);
      await burst(h);
      const res = await signIn(admins, PASSWORD).expect(429);
      assert.equal(res.body.error.code, 'too_many_attempts');
    } finally {
      await h.close();
    }
  });

  it('revokes a device cookie after the free failures: the browser must then wait like a stranger', async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const owner = await ownersBrowser(h);
      await burst(h);
      const { freeFailures } = h.ctx.config.throttle;
      let last;
      for (let i = 0; i < freeFailures; i++) last = await signIn(owner, 'wrong').expect(401);
      assert.match(deviceCookieOf(last!) ?? '', /Expires=Thu, 01 Jan 1970/, 'the cookie is cleared');
      assert.ok(h.audit.some((l) => l.includes('event=lockout') && l.includes('device=revoked')));
      const raw = new BetterSqlite3(path.join(h.dataDir, 'gatehouse.db'), { readonly: true });
      try {
        assert.equal((raw.prepare('select count(*) as n from device_cookies').get() as { n: number }).n, 0);
      } finally {
        raw.close();
      }
      await signIn(owner, PASSWORD).expect(429);
    } finally {
      await h.close();
    }
  });

  it("revokes a device cookie at the first wrong password once its login name is another user's: that browser then waits like a stranger", async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const agent = await ownersBrowser(h);
      await nameChangesHands(h);
      await burst(h);

      const wrong = await signIn(agent, 'wrong').expect(401);
      assert.match(deviceCookieOf(wrong) ?? '', /Expires=Thu, 01 Jan 1970/, 'the cookie is cleared');
      assert.deepEqual(await deviceRows(h), []);
      assert.ok(h.audit.some((l) => l.includes('event=login_failure') && l.includes('device=other_user')));
      const right = await signIn(agent, NEW_ALICE_PASSWORD).expect(429);
      assert.equal(right.body.error.code, 'too_many_attempts', "the former owner's browser gets no throttle of its own");
    } finally {
      await h.close();
    }
  });

  it("replaces a device cookie that is another user's at that user's old login name on a correct password", async () => {
    const h = await harness({ rateLimit: { login: 1000 } });
    try {
      const agent = await ownersBrowser(h);
      const old = (await deviceRows(h))[0]!;
      const other = await nameChangesHands(h);

      const cookie = deviceCookieOf(await signIn(agent, NEW_ALICE_PASSWORD).expect(200));
      assert.ok(cookie, 'a new cookie is set');
      const value = cookie.split(';')[0]!.split('=')[1]!;
      assert.notEqual(sha256(value), old.hash);
      assert.deepEqual(await deviceRows(h), [{ hash: sha256(value), userId: other.id }], "alice's cookie is revoked");
    } finally {
      await h.close();
    }
  });

  it('stores only the SHA-256 of the cookie, bound to the user, and sets it like the other cookies but SameSite=Strict', async () => {
    const issuer = 'https://id.example.org';
    const h = await harness({ issuer });
    try {
      const res = await request(h.app)
        .post('/api/v1/session')
        .set({ Origin: issuer, [CSRF_HEADER]: CSRF_HEADER_VALUE })
        .send({ username: 'alice', password: PASSWORD })
        .expect(200);
      const cookie = deviceCookieOf(res, '__Host-gatehouse_device');
      assert.ok(cookie);
      for (const flag of [/; Secure(;|$)/i, /; HttpOnly(;|$)/i, /; SameSite=Strict(;|$)/i, /; Path=\/(;|$)/, /; Max-Age=\d+/]) {
        assert.match(cookie, flag);
      }
      // Only Gatehouse's own sign-in fetch reads it; the session cookie must still come along from applications.
      assert.match(deviceCookieOf(res, '__Host-gatehouse_session') ?? '', /; SameSite=Lax(;|$)/i);
      const value = cookie.split(';')[0]!.split('=')[1]!;
      const raw = new BetterSqlite3(path.join(h.dataDir, 'gatehouse.db'), { readonly: true });
      try {
        const rows = raw.prepare('select * from device_cookies').all() as { token_hash: string; user_id: string; expires_at: number }[];
        assert.deepEqual(
          rows.map((r) => [r.token_hash, r.user_id]),
          [[sha256(value), ALICE_ID]],
        );
        assert.ok(rows[0]!.expires_at > h.clock.now());
        assert.ok(!JSON.stringify(rows).includes(value));
      } finally {
        raw.close();
      }
    } finally {
      await h.close();
    }
  });

  it('keeps device cookies across a restart, and upgrades a database made before them', async () => {
    const first = await harness({ rateLimit: { login: 1000 } });
    const res = await signInFresh(first, PASSWORD).expect(200);
    const device = deviceCookieOf(res)!.split(';')[0]!;
    await signInFresh(first, 'wrong').expect(401);
    await first.close(true);

    const restarted = await harness({ rateLimit: { login: 1000 } }, first.dataDir);
    try {
      await burst(restarted);
      await request(restarted.app)
        .post('/api/v1/session')
        .set(csrf)
        .set('Cookie', device)
        .send({ username: 'alice', password: PASSWORD })
        .expect(200);
    } finally {
      await restarted.close(true);
    }

    // A database from before migration 0006: its table, what came after it, and their migration records are not there yet.
    const raw = new BetterSqlite3(path.join(first.dataDir, 'gatehouse.db'));
    raw.exec(
      'drop table upstream_states; drop table upstream_links; drop table upstreams; ' +
        'alter table sessions drop column idp; alter table grants drop column idp; alter table login_challenges drop column idp; ' +
        "drop table device_cookies; delete from kysely_migration where name in ('0006-device-cookies', '0007-upstreams')",
    );
    const before = raw.prepare("select failures from login_throttle where key = 'login:alice'").get() as { failures: number };
    raw.close();

    const upgraded = await harness({ rateLimit: { login: 1000 } }, first.dataDir);
    try {
      assert.equal((await upgraded.ctx.storage.mfa.findThrottle('login:alice'))?.failures, before.failures, 'the throttle is kept');
      assert.ok(await upgraded.ctx.identity.findUser(ALICE_ID), 'users are kept');
      const again = await request(upgraded.app)
        .post('/api/v1/session')
        .set(csrf)
        .set('Cookie', device)
        .send({ username: 'alice', password: PASSWORD });
      assert.equal(again.status, 429, 'the old cookie is unknown to the new table: a stranger again');
      await upgraded.ctx.storage.mfa.clearThrottle('login:alice');
      const fresh = await signInFresh(upgraded, PASSWORD).expect(200);
      assert.ok(deviceCookieOf(fresh), 'device cookies work after the upgrade');
    } finally {
      await upgraded.close();
    }
  });
});
