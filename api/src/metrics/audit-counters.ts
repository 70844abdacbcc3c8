import type { AuditEvent } from '../audit/events.js';
import type { AuditOutcome } from '../audit/recorder.js';
import { GRANT_TYPES, type Metrics } from './registry.js';

/** A grant type from an event's detail as a label value: a known one, else `other` (client input). */
function grantType(value: unknown): string {
  return (GRANT_TYPES as readonly unknown[]).includes(value) ? (value as string) : 'other';
}

/**
 * The one mapping from audit events to counters; the audit recorder calls it for every event
 * it records. Events without a counter are ignored.
 */
export function countAuditEvent(m: Metrics, e: AuditEvent, outcome: AuditOutcome): void {
  switch (e.event) {
    case 'login_success':
    case 'login_failure':
      m.logins.inc({ result: outcome });
      break;
    case 'mfa_challenge':
      m.mfa.inc({ result: 'challenge' });
      break;
    case 'mfa_success':
    case 'mfa_failure':
      m.mfa.inc({ result: outcome });
      break;
    case 'consent_grant':
      m.consent.inc({ result: 'granted' });
      break;
    case 'consent_deny':
      m.consent.inc({ result: 'denied' });
      break;
    case 'consent_revoke':
      m.consent.inc({ result: 'revoked' });
      break;
    case 'token_issued':
    case 'token_failure':
      m.tokenRequests.inc({ grant_type: grantType(e.detail?.grant_type), result: outcome });
      break;
    case 'token_refreshed':
      m.tokenRequests.inc({ grant_type: 'refresh_token', result: outcome });
      break;
    case 'password_change':
    case 'password_link_used':
      m.passwordChanges.inc({ result: outcome });
      break;
    case 'reauthentication_failure':
      if (e.detail?.purpose === 'password_change') m.passwordChanges.inc({ result: 'failure' });
      break;
    case 'token_create':
      m.apiTokenOperations.inc({ operation: 'create', result: outcome });
      break;
    case 'token_revoke':
      m.apiTokenOperations.inc({ operation: 'revoke', result: outcome });
      break;
    default:
      break;
  }
}
