import type { Request } from 'express';

/** Operational log (not the audit trail). Stack traces go here, never to clients. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, err: unknown, req?: Request): void;
}

export function createLogger(write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const line = (level: string, message: string, fields: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  return {
    info: (message, fields = {}) => line('info', message, fields),
    error: (message, err, req) =>
      line('error', message, {
        ...(req && { method: req.method, path: req.path }),
        error: err instanceof Error ? err.stack ?? err.message : String(err),
      }),
  };
}

export const silentLogger: Logger = { info: () => {}, error: () => {} };
