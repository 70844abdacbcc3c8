import type { RequestHandler } from 'express';
import {
  AcceptInvitationRequest,
  AcceptedInvitation,
  InvitationLookup,
  InvitationPreview,
  RegisterRequest,
  Registered,
  RegistrationSettings,
  type TotpEnrolment,
} from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';
import { DirectoryConflict, type DirectoryGroup, type DirectoryUser } from '../identity/provider.js';
import { sha256 } from '../lib/hash.js';
import { qrDataUri } from '../mfa/qr.js';
import { checkTotp, newTotpSecret, otpauthUri } from '../mfa/totp.js';
import type { InvitationRecord } from '../storage/invitations.js';
import { invitationStatus } from './admin-invitations.js';
import type { RestRoutes } from './route.js';

/** The issuer name authenticator apps show; the same as for TOTP set up in the portal. */
const TOTP_ISSUER = 'Gatehouse';

const invalidInvitation = () =>
  ApiError.notFound('This invitation link is not valid. It may have expired or been used already; ask for a new one.');

/** Why an account could not be made, as the one error shape. */
function conflictError(err: DirectoryConflict): ApiError {
  if (err.reason === 'username_taken') {
    return new ApiError('conflict', 409, 'That username is taken. Choose another.', [{ field: 'username', message: 'Taken' }]);
  }
  if (err.reason === 'email_taken') {
    return new ApiError('conflict', 409, 'An account with that email address exists already. Sign in instead.', [
      { field: 'email', message: 'Taken' },
    ]);
  }
  return new ApiError('conflict', 409, err.message);
}

/**
 * Endpoints for people without an account yet:
 *   POST /api/v1/invitations/lookup   what an invitation offers (and its TOTP secret, if a target group requires one)
 *   POST /api/v1/invitations/accept   create the account the invitation allows
 *   GET  /api/v1/registration         whether self-registration is on
 *   POST /api/v1/registration         create an account, when it is on
 * They take no credentials but still only serve the SPA (same origin plus the CSRF header), and
 * every write is rate limited like sign-in. Unknown, used, revoked and expired invitations all
 * get the same answer.
 */
export function enrolmentRoutes(ctx: AppContext, routes: RestRoutes, attemptLimit: RequestHandler): void {
  const sameOrigin = requireSameOrigin(new URL(ctx.config.issuer).origin);
  const registrationOpen: RequestHandler = (_req, _res, next) =>
    next(
      ctx.config.selfRegistration
        ? undefined
        : new ApiError('forbidden', 403, 'Self-registration is turned off; ask an administrator for an invitation.'),
    );

  async function pendingInvitation(token: string): Promise<InvitationRecord> {
    const invitation = await ctx.storage.invitations.findByHash(sha256(token));
    if (!invitation || invitationStatus(invitation, ctx.clock.now()) !== 'pending') throw invalidInvitation();
    return invitation;
  }

  /** A group requires a second factor when it, or any group it is nested in, says so. */
  async function anyRequiresMfa(groups: DirectoryGroup[]): Promise<boolean> {
    const seen = new Set<string>();
    let level = groups;
    while (level.length > 0) {
      if (level.some((g) => g.requireMfa)) return true;
      level.forEach((g) => seen.add(g.id));
      const parentIds = [...new Set(level.flatMap((g) => g.parents.map((p) => p.id)))].filter((id) => !seen.has(id));
      level = (await Promise.all(parentIds.map((id) => ctx.identity.directory.getGroup(id)))).filter((g) => g !== undefined);
    }
    return false;
  }

  /** The invitation's TOTP secret, made on first need; a secret once offered stays required. */
  async function totpSecretOf(invitation: InvitationRecord, groups: DirectoryGroup[]): Promise<string | null> {
    if (invitation.sealedTotpSecret) return ctx.box.open(invitation.sealedTotpSecret);
    if (!(await anyRequiresMfa(groups))) return null;
    const secret = newTotpSecret();
    if (await ctx.storage.invitations.setTotpSecretOnce(invitation.id, ctx.box.seal(secret))) return secret;
    // A concurrent lookup stored one first: everyone must see that one.
    const stored = (await ctx.storage.invitations.findById(invitation.id))?.sealedTotpSecret;
    if (!stored) throw invalidInvitation();
    return ctx.box.open(stored);
  }

  routes.addPublic(
    {
      method: 'post',
      path: '/api/v1/invitations/lookup',
      summary: 'What an invitation offers',
      scope: 'public',
      body: InvitationLookup,
      response: InvitationPreview,
    },
    async ({ body }) => {
      const invitation = await pendingInvitation(body.token);
      const groups = await ctx.identity.directory.findGroupsByName(invitation.groups);
      const secret = await totpSecretOf(invitation, groups);
      let totp: TotpEnrolment | null = null;
      if (secret) {
        const uri = otpauthUri(TOTP_ISSUER, invitation.email, secret);
        totp = { secret, otpauthUri: uri, qrCode: await qrDataUri(uri) };
      }
      return { email: invitation.email, groups: invitation.groups, expiresAt: invitation.expiresAt, totp };
    },
    [sameOrigin, attemptLimit],
  );

  routes.addPublic(
    {
      method: 'post',
      path: '/api/v1/invitations/accept',
      summary: 'Create the account an invitation allows',
      scope: 'public',
      body: AcceptInvitationRequest,
      response: AcceptedInvitation,
      status: 201,
    },
    async ({ req, body }) => {
      const invitation = await pendingInvitation(body.token);
      const groups = await ctx.identity.directory.findGroupsByName(invitation.groups);
      const secret = await totpSecretOf(invitation, groups);
      let step: number | null = null;
      if (secret) {
        if (!body.code) {
          throw new ApiError('mfa_failed', 400, 'Set up your authenticator app with the code shown, then enter its current 6-digit code.');
        }
        const check = await checkTotp(secret, body.code, ctx.clock.now(), null);
        if (!check.ok) {
          await ctx.audit.record(
            { event: 'mfa_failure', ip: req.ip ?? null, detail: { reason: 'invitation_code', invitation: invitation.id } },
            ctx.clock.now(),
          );
          throw new ApiError('mfa_failed', 401, 'That code does not match. Check the time on your phone and enter the current code.');
        }
        step = check.step;
      }

      if (!(await ctx.storage.invitations.claim(invitation.id, ctx.clock.now()))) throw invalidInvitation();
      let user: DirectoryUser;
      try {
        user = await ctx.identity.directory.createUser({
          username: body.username,
          email: invitation.email,
          // Holding the link sent to the address proves the mailbox.
          emailVerified: true,
          name: body.name ?? null,
          password: body.password,
          isAdmin: false,
          groupIds: groups.map((g) => g.id),
        });
      } catch (err) {
        await ctx.storage.invitations.release(invitation.id);
        throw err instanceof DirectoryConflict ? conflictError(err) : err;
      }
      await ctx.storage.invitations.setUsedBy(invitation.id, user.id);
      const recoveryCodes = secret && step !== null ? await ctx.identity.mfa.adoptTotp(user.id, secret, step) : null;

      const now = ctx.clock.now();
      const ip = req.ip ?? null;
      await ctx.audit.record(
        { event: 'user_create', userId: user.id, ip, detail: { username: user.username, via: 'invitation', invitation: invitation.id } },
        now,
      );
      await ctx.audit.record(
        { event: 'invitation_accept', userId: user.id, ip, detail: { invitation: invitation.id, totp: recoveryCodes !== null } },
        now,
      );
      return { username: user.username, recoveryCodes };
    },
    [sameOrigin, attemptLimit],
  );

  routes.addPublic(
    {
      method: 'get',
      path: '/api/v1/registration',
      summary: 'Whether anyone may create an account',
      scope: 'public',
      response: RegistrationSettings,
    },
    async () => ({ enabled: ctx.config.selfRegistration }),
    // Reads a setting the sign-in screen asks for on every visit: the general API limit is enough.
    [],
  );

  routes.addPublic(
    {
      method: 'post',
      path: '/api/v1/registration',
      summary: 'Create an account (when self-registration is on)',
      scope: 'public',
      body: RegisterRequest,
      response: Registered,
      status: 201,
    },
    async ({ req, body }) => {
      let user: DirectoryUser;
      try {
        user = await ctx.identity.directory.createUser({
          username: body.username,
          email: body.email,
          emailVerified: false,
          name: body.name ?? null,
          password: body.password,
          isAdmin: false,
          groupIds: [],
        });
      } catch (err) {
        throw err instanceof DirectoryConflict ? conflictError(err) : err;
      }
      await ctx.audit.record(
        { event: 'registration', userId: user.id, ip: req.ip ?? null, detail: { username: user.username } },
        ctx.clock.now(),
      );
      return { username: user.username };
    },
    [sameOrigin, registrationOpen, attemptLimit],
  );
}
