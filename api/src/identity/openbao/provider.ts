/**
 * OpenBao as Gatehouse's identity backend (issue #7).
 *
 * - Sign-in is a userpass login. When OpenBao's login MFA answers with an MFA requirement, the
 *   request id travels (sealed by the caller) on Gatehouse's login challenge and the code is
 *   checked by sys/mfa/validate. The user's OpenBao token is the session's backend credential:
 *   kept server-side, revoked at sign-out, and its expiry ends the session.
 * - Logins are by username only: userpass has no email lookup, so an email address (or anything
 *   else that is not a userpass name) is an unknown user without asking OpenBao.
 * - Claims come from the identity entity, read with Gatehouse's service token: `sub` is the entity
 *   id, the username is the userpass alias, name and email come from entity metadata, groups are
 *   the entity's identity groups (direct and inherited) and members of `openbao.adminGroup` are
 *   admins. OpenBao enforces second factors itself, so no user "requires" one here.
 * - Consents stay in Gatehouse's database, not in entity metadata: they change atomically with the
 *   grants and token revocations they belong to, the service token stays read-mostly (it never
 *   writes entities), and OpenBao admins cannot edit what a user approved. The cost: a Gatehouse
 *   rebuilt from scratch asks each user to approve each app again.
 * - Wrapped child tokens and kubernetes credentials are minted with the session's own OpenBao
 *   token (backend.ts), so the user's OpenBao policies decide what they may have.
 * - Gatehouse keeps a shadow row per entity in its users table (see shadow-users.ts) because its
 *   own tables reference users(id).
 */
import type { Account } from '@gatehouse/shared';
import type { Logger } from '../../http/logger.js';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { MfaRepo } from '../../storage/mfa.js';
import type { UserRepo } from '../../storage/users.js';
import type { AuthenticationResult, BackendCredential, IdentityProvider } from '../provider.js';
import { IdentityUnavailable } from '../provider.js';
import { createOpenBaoBackendServices } from './backend.js';
import {
  createOpenBaoClient,
  isUserpassName,
  type LoginAnswer,
  type LoginToken,
  type OpenBaoClient,
  type OpenBaoSettings,
} from './client.js';
import { createOpenBaoDirectory } from './directory.js';
import { OpenBaoIdentities, type OpenBaoIdentity } from './identities.js';
import { createOpenBaoMfa } from './mfa.js';
import { ShadowUsers } from './shadow-users.js';

/** Expiry given to a token OpenBao issued without a TTL (the session's own lifetime caps it). */
const NO_EXPIRY = 253_402_300_799;

export interface OpenBaoProviderDeps {
  users: UserRepo;
  mfa: MfaRepo;
  box: SecretBox;
  clock: Clock;
  log: Logger;
  /** For tests; built from the settings otherwise. */
  client?: OpenBaoClient;
}

/** What the caller seals onto the login challenge between the password and the code. */
interface LoginState {
  mfaRequestId: string;
}

function parseState(state: string | undefined): LoginState | undefined {
  if (!state) return undefined;
  try {
    const parsed = JSON.parse(state) as Partial<LoginState>;
    return typeof parsed.mfaRequestId === 'string' && parsed.mfaRequestId !== '' ? { mfaRequestId: parsed.mfaRequestId } : undefined;
  } catch {
    return undefined;
  }
}

export function createOpenBaoIdentityProvider(settings: OpenBaoSettings, deps: OpenBaoProviderDeps): IdentityProvider {
  const { clock, log } = deps;
  const client = deps.client ?? createOpenBaoClient(settings);
  const identities = new OpenBaoIdentities(client, settings, clock);
  const shadow = new ShadowUsers(deps.users, clock, log);
  const mfa = createOpenBaoMfa(client, settings, deps.mfa, deps.box, clock);
  const directory = createOpenBaoDirectory(client, settings, identities, deps.users, shadow);

  const credentialOf = (login: LoginToken): BackendCredential => ({
    token: login.token,
    expiresAt: login.leaseDuration > 0 ? clock.now() + login.leaseDuration : NO_EXPIRY,
  });

  /** Best effort: a token Gatehouse will not use is given back at once. */
  const discard = (token: string) =>
    client.revokeSelf(token).catch((err: unknown) => log.error('openbao: revoking an unused token failed', err));

  /** The active user, their shadow row up to date; undefined when gone or disabled. */
  async function active(userId: string): Promise<OpenBaoIdentity | undefined> {
    const identity = await identities.byId(userId);
    if (!identity) return undefined;
    await shadow.sync(identity);
    return identity.disabled ? undefined : identity;
  }

  /** For the audit trail of a refused login: the entity behind the name, when OpenBao knows one. */
  async function refused(username: string): Promise<AuthenticationResult> {
    const known = await identities.byUsername(username).catch(() => undefined);
    if (!known) return { ok: false, reason: 'unknown_user' };
    await shadow.sync(known).catch(() => undefined);
    return { ok: false, reason: 'bad_password', userId: known.id };
  }

  /** What OpenBao's answer to a userpass login means for Gatehouse: the entity behind it, active or not. */
  async function afterLogin(username: string, answer: LoginAnswer): Promise<AuthenticationResult> {
    // OpenBao answers a wrong password, an unknown user and a locked-out user alike.
    if (answer.kind === 'refused') return refused(username);

    if (answer.kind === 'mfa') {
      if (answer.methodIds.length > 0 && !answer.methodIds.includes(settings.mfaMethodId)) {
        throw new IdentityUnavailable(new Error('OpenBao asks for an MFA method other than openbao.mfaMethodId'));
      }
      // The MFA requirement carries no entity id; the alias on the userpass mount names it.
      const identity = await identities.byUsername(username, { fresh: true });
      if (!identity) return { ok: false, reason: 'unknown_user' };
      await shadow.sync(identity);
      if (identity.disabled) return { ok: false, reason: 'disabled', userId: identity.id };
      const state: LoginState = { mfaRequestId: answer.requestId };
      return { ok: true, userId: identity.id, secondFactor: true, state: JSON.stringify(state) };
    }

    const identity = await identities.byId(answer.login.entityId, { fresh: true });
    if (!identity) {
      await discard(answer.login.token);
      return { ok: false, reason: 'unknown_user' };
    }
    await shadow.sync(identity);
    // docs: a disabled entity's tokens are issued but cannot be used.
    if (identity.disabled) {
      await discard(answer.login.token);
      return { ok: false, reason: 'disabled', userId: identity.id };
    }
    return { ok: true, userId: identity.id, secondFactor: false, credential: credentialOf(answer.login) };
  }

  return {
    kind: 'openbao',
    capabilities: {
      manageUsers: false,
      recoveryCodes: false,
      emailLogin: false,
      checkCodeAlone: false,
      backendTokens: true,
      federation: false,
    },
    mfa,
    directory,
    backend: createOpenBaoBackendServices(client, settings, clock),

    async ready() {
      await client.health();
      await client.checkServiceToken();
      await identities.userpassAccessor();
    },

    async maintain() {
      const { renewed, ttl } = await client.renewServiceToken();
      if (renewed) log.info(`openbao: service token renewed, valid for ${ttl} s`);
    },

    async authenticate(login, password): Promise<AuthenticationResult> {
      if (!isUserpassName(login)) return { ok: false, reason: 'unknown_user' };
      const username = login.toLowerCase();
      // An outage here leaves the password unjudged; everything after the answer comes after a verdict.
      const answer = await client.login(settings.userpassMount, username, password);
      try {
        return await afterLogin(username, answer);
      } catch (err) {
        if (answer.kind === 'token') await discard(answer.login.token);
        throw err instanceof IdentityUnavailable && !err.afterVerdict ? new IdentityUnavailable(err.cause, { afterVerdict: true }) : err;
      }
    },

    async completeLogin(userId, factor, state) {
      const login = parseState(state);
      // No recovery codes here, and no code check outside a login.
      if (!('code' in factor) || !login) return { result: 'invalid' };
      const answer = await client.validateMfa(login.mfaRequestId, settings.mfaMethodId, factor.code);
      if (answer.kind === 'refused') {
        const message = answer.errors.join(' ');
        // OpenBao's wording (vault/login_mfa.go): "code already used; new code is available in …"
        if (/already used/i.test(message)) return { result: 'replayed' };
        if (/secret .*not present/i.test(message)) {
          await mfa.learnNotEnrolled(userId);
          return { result: 'not_enrolled' };
        }
        return { result: 'invalid' };
      }
      if (answer.login.entityId !== userId) {
        log.error('openbao: MFA validation answered for another entity', new Error('entity mismatch'));
        await discard(answer.login.token);
        return { result: 'invalid' };
      }
      await mfa.learnEnrolled(userId);
      return { result: 'totp', credential: credentialOf(answer.login) };
    },

    async release(credential) {
      await client.revokeSelf(credential.token);
    },

    async findAccount(userId): Promise<Account | undefined> {
      const user = await active(userId);
      return (
        user && {
          sub: user.id,
          username: user.username,
          name: user.name,
          nickname: null,
          email: user.email,
          emailVerified: user.emailVerified,
          groups: user.groups,
          updatedAt: user.updatedAt,
        }
      );
    },

    async findUser(userId) {
      const user = await active(userId);
      return (
        user && {
          id: user.id,
          username: user.username,
          name: user.name,
          email: user.email,
          isAdmin: user.isAdmin,
          groups: user.groups,
          requireMfa: false,
        }
      );
    },
  };
}
