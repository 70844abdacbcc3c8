/** Names of audit events; the trail readers (and issue #6's admin filter) switch on these. */
export type AuditEventName =
  | 'login_success'
  | 'login_failure'
  | 'mfa_challenge'
  | 'mfa_success'
  | 'mfa_failure'
  | 'totp_enable'
  | 'totp_disable'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated'
  | 'lockout'
  | 'reauthentication_failure'
  /** A change to a second factor refused: a bearer token, or a session not signed in recently (detail via, action). */
  | 'mfa_change_refused'
  | 'session_expired'
  | 'kubeconfig_issued'
  | 'backend_token_create'
  | 'token_create'
  | 'profile_update'
  | 'password_change'
  | 'session_revoke'
  | 'consent_revoke'
  | 'token_revoke'
  | 'token_revoked_by_client'
  | 'logout'
  | 'consent_grant'
  | 'consent_deny'
  | 'authorize_denied'
  | 'token_issued'
  | 'token_refreshed'
  | 'token_failure'
  | 'code_reuse'
  | 'refresh_reuse'
  | 'user_create'
  | 'user_update'
  | 'user_disable'
  | 'user_enable'
  | 'user_delete'
  | 'password_set'
  | 'password_link_create'
  | 'password_link_used'
  | 'totp_reset'
  | 'group_create'
  | 'group_update'
  | 'group_delete'
  | 'group_member_add'
  | 'group_member_remove'
  | 'client_create'
  | 'client_update'
  | 'client_delete'
  | 'client_secret_rotate'
  | 'invitation_create'
  | 'invitation_revoke'
  | 'invitation_accept'
  | 'registration'
  | 'audit_purge'
  /** Signed in through an upstream identity provider (detail upstream, and created when the account was just made). */
  | 'upstream_login'
  | 'upstream_link'
  | 'upstream_unlink'
  /** A sign-in or link at an upstream that did not succeed (detail upstream, reason). */
  | 'upstream_failure'
  | 'upstream_create'
  | 'upstream_update'
  | 'upstream_delete';

export interface AuditEvent {
  event: AuditEventName;
  outcome?: 'success' | 'failure';
  /** The user the event is about. */
  userId?: string | null;
  /** The admin who did it, for admin actions. */
  actorId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  /** Extra facts; never secrets. */
  detail?: Record<string, string | number | boolean | null>;
}
