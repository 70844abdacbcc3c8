import type { AuditRepo } from '../storage/audit.js';
import type { AuditEvent } from './events.js';
import { logfmtLine } from './logfmt.js';

export type AuditOutcome = 'success' | 'failure';

/** Where security events go. Every event is stored and written as one logfmt line. */
export interface AuditRecorder {
  record(event: AuditEvent, now: number): Promise<void>;
}

/**
 * `observe` is told about every recorded event with its outcome: the metrics counters are
 * derived there (metrics/audit-counters.ts), so a security event is counted where it is audited.
 */
export function createAuditRecorder(
  repo: AuditRepo,
  write: (line: string) => void,
  observe?: (event: AuditEvent, outcome: AuditOutcome) => void,
): AuditRecorder {
  return {
    async record(e, now) {
      const outcome = e.outcome ?? (e.event.endsWith('failure') || e.event.endsWith('reuse') ? 'failure' : 'success');
      await repo.insert({
        at: now,
        event: e.event,
        outcome,
        userId: e.userId ?? null,
        actorId: e.actorId ?? null,
        clientId: e.clientId ?? null,
        ip: e.ip ?? null,
        detail: e.detail ?? null,
      });
      const fields: Record<string, unknown> = {
        time: new Date(now * 1000).toISOString(),
        level: 'audit',
        event: e.event,
        outcome,
        user: e.userId,
        actor: e.actorId,
        client: e.clientId,
        ip: e.ip,
      };
      // A detail never replaces the fields every line starts with.
      for (const [key, value] of Object.entries(e.detail ?? {})) if (!(key in fields)) fields[key] = value;
      write(logfmtLine(fields));
      observe?.(e, outcome);
    },
  };
}
