import type { Account } from '@gatehouse/shared';
import type { IdentityProvider, UserSummary } from '../../identity/provider.js';
import type { Clock } from '../../lib/clock.js';
import type { Grant, GrantRepo } from '../../storage/grants.js';
import { AccessTokenRejected, type AccessTokenClaims, type AccessTokenVerifier, type VerifiedAccessToken } from './access-token.js';

/** The views of a token's user a caller may ask for: OIDC claims, or the portal's summary. */
export interface AccessTokenSubjects {
  /** Claim source (userinfo). */
  account: Account;
  /** Username, groups and admin flag (the REST API, forward-auth, introspection). */
  user: UserSummary;
}

/**
 * An access token that is live now: signed by Gatehouse, unexpired, its grant unrevoked and its
 * user active. `claims` carries `sub`, `clientId`, `scope` and `grantId`; with `exp` and `iat`
 * that is an introspection answer (RFC 7662 §2.2) apart from the user's name.
 */
export type ValidAccessToken<V extends keyof AccessTokenSubjects> = VerifiedAccessToken & { grant: Grant } & Pick<AccessTokenSubjects, V>;

export interface ValidateOptions<V extends keyof AccessTokenSubjects> {
  /** Which view of the user to load (one identity read). */
  load: V;
  /** A scope the token must carry, checked before the user is read (`insufficient_scope`). */
  scope?: string;
}

/**
 * The one owner of "is this access token good?" for every endpoint Gatehouse serves as its
 * own resource server (userinfo, the REST API, revocation, later introspection and forward-auth).
 * One instance per app (`ctx.accessTokens`), so all of them share one verification cache.
 *
 * Per request it costs the cached signature check, one grant read and one identity read.
 */
export class AccessTokenValidator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly grants: Pick<GrantRepo, 'find'>,
    private readonly identity: Pick<IdentityProvider, 'findAccount' | 'findUser'>,
    private readonly clock: Clock,
  ) {}

  /**
   * The live token with its grant and the view of its user asked for. Throws
   * AccessTokenRejected, whose `reason` says why, in this order: `invalid` or `expired`
   * (signature, RFC 9068 §4 checks, `exp`), `revoked` (the grant is revoked or not this
   * subject's and client's), `insufficient_scope` (`options.scope` missing), `user_gone` (the
   * user no longer exists or is disabled). Anything else it throws is a failure of the backend.
   */
  async validate<V extends keyof AccessTokenSubjects>(token: string, options: ValidateOptions<V>): Promise<ValidAccessToken<V>> {
    const { claims, exp, iat } = await this.verifier.verifyToken(token, this.clock.now());
    const grant = await this.grants.find(claims.grantId);
    if (!grant || grant.revokedAt !== null || grant.userId !== claims.sub || grant.clientId !== claims.clientId) {
      throw new AccessTokenRejected('revoked');
    }
    if (options.scope !== undefined && !claims.scope.includes(options.scope)) {
      throw new AccessTokenRejected('insufficient_scope', `without ${options.scope}`);
    }
    const subject = options.load === 'account' ? await this.identity.findAccount(claims.sub) : await this.identity.findUser(claims.sub);
    if (!subject) throw new AccessTokenRejected('user_gone');
    return { claims, exp, iat, grant, [options.load]: subject } as unknown as ValidAccessToken<V>;
  }

  /**
   * Whether this is an unexpired access token Gatehouse signed, and then its claims (client and
   * grant); undefined for anything else. It reads nothing and never throws a rejection: token
   * revocation answers unknown, foreign and expired tokens alike (RFC 7009 §2.2).
   */
  async identify(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      return await this.verifier.verify(token, this.clock.now());
    } catch (err) {
      if (err instanceof AccessTokenRejected) return undefined;
      throw err;
    }
  }
}
