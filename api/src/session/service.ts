import type { Request, Response } from 'express';
import type { Config } from '../config/schema.js';
import type { Cookies } from '../http/cookies.js';
import type { Clock } from '../lib/clock.js';
import { sha256 } from '../lib/hash.js';
import type { Random } from '../lib/random.js';
import type { BackendCredential } from '../identity/provider.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Session, SessionRepo } from '../storage/sessions.js';

/** Last-seen is written at most this often, so a busy session does not write on every request. */
const TOUCH_INTERVAL = 60;

const loaded = new WeakMap<Request, Promise<Session | undefined>>();

/** What sessions need from the identity backend and the audit trail. */
export interface SessionHooks {
  box: SecretBox;
  /** A session whose backend token ran out was found and ended. */
  onBackendExpiry(session: Session): Promise<void>;
  /** Gives a backend token back when its session ends by sign-out. */
  release(credential: BackendCredential): Promise<void>;
}

/**
 * Browser sessions: a random cookie value, stored only as its SHA-256. A backend token the
 * identity backend issued at sign-in (OpenBao) is sealed onto the session, and its expiry is
 * the session's expiry too.
 */
export class SessionService {
  constructor(
    private readonly repo: SessionRepo,
    private readonly cookies: Cookies,
    private readonly ttl: Config['ttl'],
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly hooks: SessionHooks,
  ) {}

  isActive(s: Session, now = this.clock.now()): boolean {
    return s.endedAt === null && now < s.expiresAt && now < s.lastSeenAt + this.ttl.sessionIdle;
  }

  /** The request's active session, loaded once per request. */
  current(req: Request): Promise<Session | undefined> {
    let session = loaded.get(req);
    if (!session) {
      session = this.load(req);
      loaded.set(req, session);
    }
    return session;
  }

  private async load(req: Request): Promise<Session | undefined> {
    const token = this.cookies.read(req, 'session');
    if (!token) return undefined;
    const session = await this.repo.findByTokenHash(sha256(token));
    const now = this.clock.now();
    if (!session || !this.isActive(session, now)) {
      if (session && session.backendToken !== null && session.endedAt === null && now >= session.expiresAt) {
        await this.repo.end(session.id, now);
        await this.hooks.onBackendExpiry(session);
      }
      return undefined;
    }
    if (now - session.lastSeenAt >= TOUCH_INTERVAL) {
      await this.repo.touch(session.id, now);
      session.lastSeenAt = now;
    }
    return session;
  }

  /**
   * Signs a user in on this browser. The cookie value is always new (no session fixation).
   * The same user re-authenticating keeps the session id; another user's session is ended.
   * `idp` is the upstream the user signed in with (federation): a step-up passes the session's on.
   */
  async signIn(
    req: Request,
    res: Response,
    userId: string,
    amr: string[],
    remember: boolean,
    credential?: BackendCredential,
    idp: string | null = null,
  ): Promise<Session> {
    const now = this.clock.now();
    const token = this.random.token(32);
    const existing = await this.current(req);
    const backendToken = credential ? this.hooks.box.seal(credential.token) : null;
    const cap = (expiresAt: number) => (credential ? Math.min(expiresAt, credential.expiresAt) : expiresAt);
    let session: Session | undefined;
    if (existing && existing.userId === userId) {
      // A step-up without a new backend token keeps the one the session has.
      const kept = credential ? backendToken : existing.backendToken;
      const expiresAt = cap(existing.createdAt + this.ttl.sessionAbsolute);
      await this.repo.reauthenticate(existing.id, { tokenHash: sha256(token), amr, remember, expiresAt, backendToken: kept, idp }, now);
      if (credential && existing.backendToken) await this.releaseSealed(existing.backendToken, existing.expiresAt);
      session = { ...existing, authTime: now, amr, remember, lastSeenAt: now, expiresAt, backendToken: kept, idp };
    } else {
      if (existing) await this.end(existing, now);
      const id = this.random.token(16);
      const expiresAt = cap(now + this.ttl.sessionAbsolute);
      await this.repo.insert(
        {
          id,
          tokenHash: sha256(token),
          userId,
          authTime: now,
          amr,
          remember,
          expiresAt,
          ip: req.ip ?? null,
          userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
          backendToken,
          idp,
        },
        now,
      );
      session = { id, userId, authTime: now, amr, remember, createdAt: now, lastSeenAt: now, expiresAt, endedAt: null, backendToken, idp };
    }
    this.cookies.write(res, 'session', token, remember ? session.expiresAt - now : undefined);
    loaded.set(req, Promise.resolve(session));
    return session;
  }

  /** Ends the browser's session (revoking its session-bound grants) and clears the cookie. */
  async signOut(req: Request, res: Response): Promise<Session | undefined> {
    const session = await this.current(req);
    if (session) await this.end(session, this.clock.now());
    this.cookies.clear(res, 'session');
    loaded.set(req, Promise.resolve(undefined));
    return session;
  }

  /** The backend token of a live session, for calls to the backend on the user's behalf. */
  credentialOf(session: Session): BackendCredential | undefined {
    return session.backendToken === null ? undefined : { token: this.hooks.box.open(session.backendToken), expiresAt: session.expiresAt };
  }

  /** Ends a session, giving its backend token back. */
  async end(session: Session, now: number): Promise<void> {
    await this.repo.end(session.id, now);
    if (session.backendToken) await this.releaseSealed(session.backendToken, session.expiresAt);
  }

  /** Ends every session of the user but `keepId` (e.g. after a password change). */
  async endAllExcept(userId: string, keepId: string | null, now: number): Promise<void> {
    for (const session of await this.repo.listOpenExcept(userId, keepId)) await this.end(session, now);
  }

  /** Best effort: the backend token expires anyway, and sign-out must not fail on it. */
  private async releaseSealed(sealed: string, expiresAt: number): Promise<void> {
    await this.hooks.release({ token: this.hooks.box.open(sealed), expiresAt }).catch(() => undefined);
  }
}
