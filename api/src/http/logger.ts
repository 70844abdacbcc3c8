/** Operational log (not the audit trail). Stack traces go here, never to clients. */
/** The request an error happened in, as far as the log names it (an Express Request fits). */
export interface LoggedRequest {
  method?: string;
  path?: string;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something the operator should fix, though Gatehouse runs on (e.g. files other users can read). */
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, err: unknown, req?: LoggedRequest): void;
}

export function createLogger(write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const line = (level: string, message: string, fields: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  return {
    info: (message, fields = {}) => line('info', message, fields),
    warn: (message, fields = {}) => line('warn', message, fields),
    error: (message, err, req) =>
      line('error', message, {
        ...(req && { method: req.method, path: req.path }),
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
