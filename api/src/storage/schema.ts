import type { Generated } from 'kysely';

/** Tables as kysely sees them. Times are seconds since the epoch; lists are JSON text. */
export interface Database {
  users: UserTable;
  groups: GroupTable;
  group_parents: { group_id: string; parent_id: string };
  group_members: { group_id: string; user_id: string };
  clients: ClientTable;
  signing_keys: SigningKeyTable;
  sessions: SessionTable;
  interactions: InteractionTable;
  consents: ConsentTable;
  grants: GrantTable;
  codes: CodeTable;
  refresh_tokens: RefreshTokenTable;
  audit_events: AuditEventTable;
  totp_credentials: { user_id: string; secret: string; confirmed_at: number | null; last_step: number | null; created_at: number };
  recovery_codes: { user_id: string; code_hash: string; used_at: number | null };
  login_challenges: LoginChallengeTable;
  login_throttle: { key: string; failures: number; last_failure_at: number; blocked_until: number };
  device_cookies: DeviceCookieTable;
  api_tokens: ApiTokenTable;
  invitations: InvitationTable;
  password_links: PasswordLinkTable;
  upstreams: UpstreamTable;
  upstream_links: UpstreamLinkTable;
  upstream_states: UpstreamStateTable;
}

/** An upstream identity provider; `settings` is its registration without the secret, as JSON. */
export interface UpstreamTable {
  id: string;
  source: 'config' | 'admin';
  settings: string;
  /** Sealed. */
  client_secret: string | null;
  created_at: number;
  updated_at: number;
}

/** An upstream identity (issuer + subject) that signs in as an account. */
export interface UpstreamLinkTable {
  issuer: string;
  subject: string;
  upstream_id: string;
  user_id: string;
  email: string | null;
  created_at: number;
  last_login_at: number | null;
}

/** A sign-in under way at an upstream, found by the SHA-256 of its `state`. */
export interface UpstreamStateTable {
  state_hash: string;
  upstream_id: string;
  browser_hash: string;
  purpose: 'login' | 'link';
  interaction_id: string | null;
  user_id: string | null;
  secrets: string;
  created_at: number;
  expires_at: number;
}

/** A browser that signed in before; the cookie itself is never stored. */
export interface DeviceCookieTable {
  token_hash: string;
  user_id: string;
  /** The login name as typed at that sign-in, trimmed and lower-cased. */
  login: string;
  created_at: number;
  expires_at: number;
}

export interface GroupTable {
  id: string;
  name: string;
  description: string | null;
  require_mfa: Generated<number>;
  created_at: Generated<number>;
}

export interface InvitationTable {
  id: string;
  token_hash: string;
  email: string;
  /** JSON list of group names. */
  groups: string;
  /** Sealed TOTP secret, when a target group requires a second factor. */
  totp_secret: string | null;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  revoked_at: number | null;
}

export interface PasswordLinkTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface LoginChallengeTable {
  id: string;
  browser_hash: string;
  user_id: string;
  /** Null for a sign-in to the portal itself. */
  interaction_id: string | null;
  remember: number;
  failures: number;
  created_at: number;
  expires_at: number;
  /** The identity backend's state for finishing this login (OpenBao's MFA request), sealed. */
  backend_state: string | null;
  /** The upstream the first step was made at (federation); null for a password. */
  idp: string | null;
}

export interface UserTable {
  id: string;
  username: string;
  email: string | null;
  email_verified: number;
  name: string | null;
  nickname: string | null;
  password_hash: string;
  is_admin: number;
  disabled: number;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ClientTable {
  id: string;
  secret_hash: string | null;
  name: string;
  type: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  consent: string;
  scopes: string;
  grant_types: string;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  require_mfa: number;
  logo_uri: string | null;
  /** JSON list of group names; empty means everyone. */
  allowed_groups: string;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  /** Private JWK, sealed with the instance secret key. */
  private_jwk: string;
  public_jwk: string;
  created_at: number;
}

export interface SessionTable {
  /** Public session id: the `sid` claim. */
  id: string;
  /** SHA-256 of the cookie value; the cookie itself is never stored. */
  token_hash: string;
  user_id: string;
  auth_time: number;
  amr: string;
  remember: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  ip: string | null;
  user_agent: string | null;
  /** The identity backend's token for this user (OpenBao), sealed; null for the SQLite store. */
  backend_token: string | null;
  /** The upstream the user signed in with; null for Gatehouse's own sign-in. */
  idp: string | null;
}

export interface InteractionTable {
  id: string;
  /** SHA-256 of the browser cookie the request was started with. */
  browser_hash: string;
  client_id: string;
  params: string;
  prompt: string;
  /** Set when login was forced (prompt=login, max_age) and not yet done in this interaction. */
  force_login: number;
  session_id: string | null;
  consent: string | null;
  created_at: number;
  expires_at: number;
}

export interface ConsentTable {
  user_id: string;
  client_id: string;
  scopes: string;
  created_at: number;
  updated_at: number;
}

export interface GrantTable {
  id: string;
  client_id: string;
  user_id: string;
  session_id: string;
  scope: string;
  /** Granted offline_access: survives the end of its session. */
  offline: number;
  nonce: string | null;
  auth_time: number;
  amr: string;
  idp: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface CodeTable {
  hash: string;
  grant_id: string;
  redirect_uri: string;
  code_challenge: string | null;
  expires_at: number;
  consumed_at: number | null;
}

export interface RefreshTokenTable {
  hash: string;
  grant_id: string;
  scope: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: number;
  event: string;
  outcome: string;
  user_id: string | null;
  client_id: string | null;
  ip: string | null;
  detail: string | null;
  actor_id: string | null;
}
