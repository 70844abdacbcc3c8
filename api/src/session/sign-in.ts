import type { Request, Response } from 'express';
import type { LoginRequest } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { IdentityUnavailable, type AuthenticationResult, type BackendCredential, type SecondFactor } from '../identity/provider.js';
import { browserBinding } from './browser.js';
import { safeEqual, sha256 } from '../lib/hash.js';
import { forgetDevice, knownDevice, rememberDevice } from './device-cookies.js';
import { deviceLoginKey, loginKey, mfaKey, reauthKey } from '../mfa/regulation.js';
import type { LoginChallenge } from '../storage/mfa.js';
import type { Session } from '../storage/sessions.js';

/** How long a password stays good for completing the second step. */
const CHALLENGE_TTL = 5 * 60;
/** Wrong second factors per password entry before the password must be entered again. */
const CHALLENGE_ATTEMPTS = 5;

/** A backend that cannot be reached is a temporary failure for the caller, never a crash. */
export async function unavailableAsApiError<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof IdentityUnavailable) {
      throw new ApiError(
        'unavailable',
        503,
        'Signing in is not possible right now: the identity service cannot be reached. Try again in a minute.',
      );
    }
    throw err;
  }
}

/**
 * A check of a password or code whose attempt is reserved under `key`. The attempt is given back
 * only when the backend gave no verdict (it could not be asked): a failure after one, such as
 * OpenBao accepting the password and an entity read failing next, counts, or its 503 would tell a
 * guesser the password was right without costing an attempt.
 */
async function refundUnjudged<T>(ctx: AppContext, key: string, check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    if (err instanceof IdentityUnavailable && !err.afterVerdict) await ctx.regulator.refund(key);
    throw err;
  }
}

const authenticate = (ctx: AppContext, key: string, login: string, password: string): Promise<AuthenticationResult> =>
  unavailableAsApiError(refundUnjudged(ctx, key, ctx.identity.authenticate(login, password)));

/**
 * Password, and a code when the user has a second factor, for changes that need proof it is
 * really them (password change, changes to the second factor). Any backend token the check
 * produced is given back at once, unless `keepCredential` asks for it (to renew a session).
 */
export async function reauthenticate(
  ctx: AppContext,
  req: Request,
  res: Response,
  user: { id: string; username: string },
  password: string,
  code: string | undefined,
  purpose: 'password_change' | 'totp_enrol' | 'totp_disable' | 'recovery_codes' | 'upstream_link' | 'upstream_unlink',
  keepCredential = false,
): Promise<BackendCredential | undefined> {
  // Guessing the password from a signed-in browser is throttled like signing in.
  // Per browser session, so guessing through one session (or a token) never blocks the owner's own.
  const session = await ctx.sessions.current(req);
  const key = reauthKey(session ? `session:${session.id}` : `user:${user.id}`);
  const attempt = await ctx.regulator.reserve(key);
  if (!attempt.allowed) throw tooMany(res, attempt.wait);
  const check = await authenticate(ctx, key, user.username, password);
  if (!check.ok || check.userId !== user.id) {
    await ctx.audit.record(
      {
        event: 'reauthentication_failure',
        userId: user.id,
        ip: req.ip ?? null,
        detail: { purpose, reason: check.ok ? 'other_user' : check.reason },
      },
      ctx.clock.now(),
    );
    throw new ApiError('invalid_credentials', 401, 'The password is not correct.');
  }
  await ctx.regulator.succeed(key);
  const credential = check.secondFactor
    ? await (async () => {
        if (!code) throw ApiError.validation([{ field: 'code', message: 'Enter the code from your authenticator app' }]);
        return verifySecondFactor(ctx, req, res, user.id, { code }, null, check.state);
      })()
    : check.credential;
  if (keepCredential) return credential;
  if (credential) await ctx.identity.release(credential);
  return undefined;
}

export type SignInOutcome = { kind: 'signed_in'; session: Session } | { kind: 'mfa_required' };

function tooMany(res: Response, wait: number): ApiError {
  res.set('Retry-After', String(wait));
  return new ApiError('too_many_attempts', 429, `Too many failed attempts. Try again in ${wait} seconds.`, { retryAfter: wait });
}

/**
 * The password step, shared by the authorization flow and the portal. One generic failure for
 * unknown users, wrong passwords and disabled accounts (the precise reason goes to the audit
 * trail); repeated failures for a login name make it wait, counted before the password is
 * checked. A browser that signed in as that name before (its device cookie) is counted apart,
 * so a guesser elsewhere cannot lock its owner out. A user with a second factor gets a
 * challenge kept server-side, bound to this browser: the password is never sent again.
 */
export async function passwordSignIn(
  ctx: AppContext,
  req: Request,
  res: Response,
  body: Required<LoginRequest>,
  target: { interactionId: string | null; clientId: string | null },
): Promise<SignInOutcome> {
  const now = ctx.clock.now();
  const ip = req.ip ?? null;
  const device = await knownDevice(ctx, req, body.username);
  const key = device ? deviceLoginKey(body.username, device.hash) : loginKey(body.username);
  const attempt = await ctx.regulator.reserve(key);
  if (!attempt.allowed) throw tooMany(res, attempt.wait);

  const result = await authenticate(ctx, key, body.username, body.password);
  if (!result.ok) {
    // A device cookie is bound to its user: one issued to whoever held this login name before is not this user's browser.
    const otherUser = device !== undefined && result.userId !== undefined && result.userId !== device.userId;
    await ctx.audit.record(
      {
        event: 'login_failure',
        userId: result.userId ?? null,
        clientId: target.clientId,
        ip,
        detail: { reason: result.reason, login: body.username, device: otherUser ? 'other_user' : device ? 'known' : 'unknown' },
      },
      now,
    );
    // OWASP device cookies: one that keeps failing is revoked; the browser is a stranger again.
    const exhausted = device !== undefined && attempt.failures >= ctx.config.throttle.freeFailures;
    if (device && (exhausted || otherUser)) await forgetDevice(ctx, res, device);
    if (attempt.wait > 0 || exhausted) {
      await ctx.audit.record(
        {
          event: 'lockout',
          userId: result.userId ?? null,
          ip,
          detail: {
            login: body.username,
            failures: attempt.failures,
            wait: attempt.wait,
            device: exhausted ? 'revoked' : device ? 'known' : 'unknown',
          },
        },
        now,
      );
    }
    throw new ApiError('invalid_credentials', 401, 'The username or password is not correct.');
  }
  await ctx.regulator.succeed(key);
  // A cookie of another user's is revoked here and replaced by one for this user.
  await rememberDevice(ctx, req, res, device, result.userId, body.username);

  if (result.secondFactor) {
    await awaitSecondFactor(ctx, req, res, result.userId, { ...target, remember: body.remember, idp: null, backendState: result.state });
    return { kind: 'mfa_required' };
  }
  const session = await ctx.sessions.signIn(req, res, result.userId, ['pwd'], body.remember, result.credential);
  await ctx.identity.directory.recordLogin(result.userId, now);
  await ctx.audit.record({ event: 'login_success', userId: result.userId, clientId: target.clientId, ip, detail: { amr: 'pwd' } }, now);
  return { kind: 'signed_in', session };
}

/**
 * The first step passed (the password, or a sign-in at an upstream: `idp`) and the second is
 * due: a challenge kept server-side, bound to this browser, good for a few minutes.
 */
export async function awaitSecondFactor(
  ctx: AppContext,
  req: Request,
  res: Response,
  userId: string,
  step: { interactionId: string | null; clientId: string | null; remember: boolean; idp: string | null; backendState?: string | undefined },
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.storage.mfa.insertChallenge(
    {
      id: ctx.random.token(16),
      browserHash: browserBinding(ctx, req, res),
      userId,
      interactionId: step.interactionId,
      remember: step.remember,
      failures: 0,
      expiresAt: now + CHALLENGE_TTL,
      backendState: step.backendState === undefined ? null : ctx.box.seal(step.backendState),
      idp: step.idp,
    },
    now,
  );
  await ctx.audit.record(
    {
      event: 'mfa_challenge',
      userId,
      clientId: step.clientId,
      ip: req.ip ?? null,
      ...(step.idp !== null && { detail: { upstream: step.idp } }),
    },
    now,
  );
}

/** This browser's pending second step for the interaction (or for the portal). */
export async function pendingChallenge(ctx: AppContext, req: Request, interactionId: string | null): Promise<LoginChallenge | undefined> {
  const browser = ctx.cookies.read(req, 'browser');
  if (!browser) return undefined;
  const challenge = await ctx.storage.mfa.findChallenge(sha256(browser), interactionId, ctx.clock.now());
  return challenge && safeEqual(challenge.browserHash, sha256(browser)) ? challenge : undefined;
}

/**
 * Checks a TOTP or recovery code for a user: waits after repeated failures, audits every
 * attempt, and answers one clear message for any wrong, used or replayed code.
 */
export async function verifySecondFactor(
  ctx: AppContext,
  req: Request,
  res: Response,
  userId: string,
  factor: SecondFactor,
  clientId: string | null,
  state?: string,
): Promise<BackendCredential | undefined> {
  const now = ctx.clock.now();
  const ip = req.ip ?? null;
  const key = mfaKey(userId);
  const attempt = await ctx.regulator.reserve(key);
  if (!attempt.allowed) throw tooMany(res, attempt.wait);
  const { result, credential } = await unavailableAsApiError(refundUnjudged(ctx, key, ctx.identity.completeLogin(userId, factor, state)));
  if (result === 'totp' || result === 'recovery') {
    await ctx.regulator.succeed(key);
    await ctx.audit.record({ event: 'mfa_success', userId, clientId, ip, detail: { method: result } }, now);
    if (result === 'recovery') {
      const left = (await ctx.identity.mfa.status(userId)).totp.recoveryCodesLeft;
      await ctx.audit.record({ event: 'recovery_code_used', userId, clientId, ip, detail: { left } }, now);
    }
    return credential;
  }
  await ctx.audit.record({ event: 'mfa_failure', userId, clientId, ip, detail: { reason: result } }, now);
  if (attempt.wait > 0)
    await ctx.audit.record(
      { event: 'lockout', userId, ip, detail: { factor: 'mfa', failures: attempt.failures, wait: attempt.wait } },
      now,
    );
  throw new ApiError(
    'mfa_failed',
    401,
    'That code is not correct. Each code works once; use the next one your app shows, or a recovery code.',
  );
}

/**
 * The second step after a password: the challenge's user proves a second factor and is
 * signed in with amr pwd+otp (fed+otp after an upstream). Too many wrong codes void the challenge.
 */
export async function completeChallenge(
  ctx: AppContext,
  req: Request,
  res: Response,
  challenge: LoginChallenge,
  factor: SecondFactor,
  clientId: string | null,
): Promise<Session> {
  let credential: BackendCredential | undefined;
  try {
    const state = challenge.backendState === null ? undefined : ctx.box.open(challenge.backendState);
    credential = await verifySecondFactor(ctx, req, res, challenge.userId, factor, clientId, state);
  } catch (err) {
    if (
      err instanceof ApiError &&
      err.code === 'mfa_failed' &&
      (await ctx.storage.mfa.countChallengeFailure(challenge.id)) >= CHALLENGE_ATTEMPTS
    ) {
      await ctx.storage.mfa.deleteChallenge(challenge.id);
      throw new ApiError('login_required', 401, 'Too many wrong codes. Sign in with your password again.');
    }
    throw err;
  }
  await ctx.storage.mfa.deleteChallenge(challenge.id);
  // The first step was the password, or a sign-in at an upstream (federation).
  const amr = [challenge.idp === null ? 'pwd' : 'fed', 'otp'];
  const session = await ctx.sessions.signIn(req, res, challenge.userId, amr, challenge.remember, credential, challenge.idp);
  await ctx.identity.directory.recordLogin(challenge.userId, ctx.clock.now());
  await ctx.audit.record(
    {
      event: 'login_success',
      userId: challenge.userId,
      clientId,
      ip: req.ip ?? null,
      detail: { amr: amr.join(' '), ...(challenge.idp !== null && { idp: challenge.idp }) },
    },
    ctx.clock.now(),
  );
  return session;
}
