import type { OAuthErrorCode } from '@gatehouse/shared';

/**
 * An RFC 6749 error. Only errors with `expose` (status < 500) show their description; the
 * rest are answered as a bare `server_error` and logged.
 */
export class OAuthError extends Error {
  readonly expose: boolean;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
    this.expose = status < 500;
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}
/** RFC 6749 §5.2: 401 when the client tried to authenticate. */
export class InvalidClient extends OAuthError {
  constructor(description: string) {
    super('invalid_client', description, 401);
  }
}
export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description);
  }
}
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description);
  }
}
export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description);
  }
}
export class UnsupportedResponseType extends OAuthError {
  constructor(description: string) {
    super('unsupported_response_type', description);
  }
}
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description);
  }
}
export class AccessDenied extends OAuthError {
  constructor(description: string) {
    super('access_denied', description, 403);
  }
}
export class LoginRequired extends OAuthError {
  constructor(description: string) {
    super('login_required', description);
  }
}
export class ConsentRequired extends OAuthError {
  constructor(description: string) {
    super('consent_required', description);
  }
}
/** RFC 6750 §3.1. */
export class InvalidToken extends OAuthError {
  constructor(description: string) {
    super('invalid_token', description, 401);
  }
}
export class InsufficientScope extends OAuthError {
  constructor(description: string) {
    super('insufficient_scope', description, 403);
  }
}
