import type { AuditRepo } from '../storage/audit.js';
import type { AuditEvent } from './events.js';
import { logfmtLine } from './logfmt.js';

/** Where security events go. Every event is stored and written as one logfmt line. */
export interface AuditRecorder {
  record(event: AuditEvent, now: number): Promise<void>;
}

export function createAuditRecorder(repo: AuditRepo, write: (line: string) => void): AuditRecorder {
  return {
    async record(e, now) {
      const outcome = e.outcome ?? (e.event.endsWith('failure') || e.event.endsWith('reuse') ? 'failure' : 'success');
      await repo.insert({
        at: now,
        event: e.event,
        outcome,
        userId: e.userId ?? null,
        clientId: e.clientId ?? null,
        ip: e.ip ?? null,
        detail: e.detail ?? null,
      });
      write(
        logfmtLine({
          time: new Date(now * 1000).toISOString(),
          level: 'audit',
          event: e.event,
          outcome,
          user: e.userId,
          client: e.clientId,
          ip: e.ip,
          ...e.detail,
        }),
      );
    },
  };
}
