import type { Request, Response } from 'express';
import type { Config } from '../config/schema.js';
import type { Cookies } from '../http/cookies.js';
import type { Clock } from '../lib/clock.js';
import { sha256 } from '../lib/hash.js';
import type { Random } from '../lib/random.js';
import type { Session, SessionRepo } from '../storage/sessions.js';

/** Last-seen is written at most this often, so a busy session does not write on every request. */
const TOUCH_INTERVAL = 60;

const loaded = new WeakMap<Request, Promise<Session | undefined>>();

/** Browser sessions: a random cookie value, stored only as its SHA-256. */
export class SessionService {
  constructor(
    private readonly repo: SessionRepo,
    private readonly cookies: Cookies,
    private readonly ttl: Config['ttl'],
    private readonly clock: Clock,
    private readonly random: Random,
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
    if (!session || !this.isActive(session, now)) return undefined;
    if (now - session.lastSeenAt >= TOUCH_INTERVAL) {
      await this.repo.touch(session.id, now);
      session.lastSeenAt = now;
    }
    return session;
  }

  /**
   * Signs a user in on this browser. The cookie value is always new (no session fixation).
   * The same user re-authenticating keeps the session id; another user's session is ended.
   */
  async signIn(req: Request, res: Response, userId: string, amr: string[], remember: boolean): Promise<Session> {
    const now = this.clock.now();
    const token = this.random.token(32);
    const existing = await this.current(req);
    let session: Session | undefined;
    if (existing && existing.userId === userId) {
      await this.repo.reauthenticate(existing.id, sha256(token), amr, remember, now);
      session = { ...existing, authTime: now, amr, remember, lastSeenAt: now };
    } else {
      if (existing) await this.repo.end(existing.id, now);
      const id = this.random.token(16);
      const expiresAt = now + this.ttl.sessionAbsolute;
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
        },
        now,
      );
      session = { id, userId, authTime: now, amr, remember, createdAt: now, lastSeenAt: now, expiresAt, endedAt: null };
    }
    this.cookies.write(res, 'session', token, remember ? session.expiresAt - now : undefined);
    loaded.set(req, Promise.resolve(session));
    return session;
  }

  /** Ends the browser's session (revoking its session-bound grants) and clears the cookie. */
  async signOut(req: Request, res: Response): Promise<Session | undefined> {
    const session = await this.current(req);
    if (session) await this.repo.end(session.id, this.clock.now());
    this.cookies.clear(res, 'session');
    loaded.set(req, Promise.resolve(undefined));
    return session;
  }
}
