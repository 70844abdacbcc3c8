import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { MemoryStore, ipKeyGenerator, type Options } from 'express-rate-limit';

/**
 * A per-IP limit with standard RateLimit-* headers (draft-8) and 429 + Retry-After.
 * `respond` writes the 429 body in the surface's own error shape.
 */
export function limitPerIp(limit: number, windowSeconds: number, respond: RequestHandler): RequestHandler {
  return new PerIpLimit(limit, windowSeconds).middleware(respond);
}

/** The outcome of counting one request: its rate-limit headers, and whether it is over the limit. */
export interface LimitResult {
  /** RateLimit and RateLimit-Policy, plus Retry-After when limited; in that order. */
  headers: Record<string, string>;
  limited: boolean;
}

/**
 * A per-IP request budget: express-rate-limit's own MemoryStore and key function, and the
 * headers its middleware writes with `standardHeaders: 'draft-8'`, `legacyHeaders: false`
 * (quota name, remaining, reset, policy with partition key; Retry-After when over the limit).
 * Express routers count `req.ip` through `middleware()`, each answering 429 in its own shape;
 * several routers may draw on one budget. The endpoints answered before Express
 * (hot-routes.ts) call `hit()` with the client IP found as Express's req.ip is (client-ip.ts).
 */
export class PerIpLimit {
  private readonly store = new MemoryStore();
  private readonly windowMs: number;
  /** express-rate-limit's default identifier: `<limit>-in-<duration>`. */
  private readonly name: string;
  private readonly policyPrefix: string;
  /** Partition keys (a hash of the key) of recently seen keys; bounded. */
  private readonly partitionKeys = new Map<string, string>();

  constructor(
    private readonly limit: number,
    windowSeconds: number,
  ) {
    this.windowMs = windowSeconds * 1000;
    this.store.init({ windowMs: this.windowMs } as Options);
    this.name = `${limit}-in-${duration(this.windowMs)}`;
    this.policyPrefix = `"${this.name}"; q=${limit}; w=${Math.ceil(this.windowMs / 1000)}; pk=:`;
  }

  /** Counts a request from `ip` (undefined when the connection is already gone). */
  async hit(ip: string | undefined): Promise<LimitResult> {
    const key = ipKeyGenerator(ip as string);
    const { totalHits, resetTime } = await this.store.increment(key);
    const resetSeconds = resetTime ? Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(this.windowMs / 1000);
    const headers: Record<string, string> = {
      RateLimit: `"${this.name}"; r=${Math.max(this.limit - totalHits, 0)}; t=${resetSeconds}`,
      'RateLimit-Policy': `${this.policyPrefix}${this.partitionKey(key)}:`,
    };
    const limited = totalHits > this.limit;
    if (limited) headers['Retry-After'] = String(resetSeconds);
    return { headers, limited };
  }

  /** Counts each request on this budget; over the limit, `respond` answers it. */
  middleware(respond: RequestHandler): RequestHandler {
    return (req, res, next) =>
      this.hit(req.ip).then(({ headers, limited }) => {
        // Appended, as express-rate-limit does: a route under two budgets shows both policies.
        for (const [name, value] of Object.entries(headers)) {
          if (name === 'Retry-After') res.set(name, value);
          else res.append(name, value);
        }
        if (limited) return respond(req, res, next);
        next();
      }, next);
  }

  /** Stops the store's timer. */
  shutdown(): void {
    this.store.shutdown();
  }

  private partitionKey(key: string): string {
    let pk = this.partitionKeys.get(key);
    if (pk === undefined) {
      pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
      if (this.partitionKeys.size >= 1000) this.partitionKeys.clear();
      this.partitionKeys.set(key, pk);
    }
    return pk;
  }
}

/** express-rate-limit's duration wording for its default quota name. */
function duration(windowMs: number): string {
  const seconds = windowMs / 1e3;
  const minutes = windowMs / (1e3 * 60);
  const hours = windowMs / (1e3 * 60 * 60);
  const days = windowMs / (1e3 * 60 * 60 * 24);
  if (seconds < 60) return `${seconds}sec`;
  if (minutes < 60) return `${minutes}min`;
  if (hours < 24) return `${hours}hr${hours > 1 ? 's' : ''}`;
  return `${days}day${days > 1 ? 's' : ''}`;
}
