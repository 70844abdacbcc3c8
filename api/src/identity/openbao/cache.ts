import type { Clock } from '../../lib/clock.js';

/**
 * A small time-bounded cache for OpenBao reads that every token and userinfo request repeats.
 * Only answers are stored (callers never store a failure); the oldest entry goes when it is full.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.clock.now() >= hit.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.clock.now() + this.ttlSeconds });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The cached value, or `load`'s answer stored for next time; concurrent misses share one load. */
  async through(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    let inflight = this.pending.get(key);
    if (!inflight) {
      inflight = load().then(
        (value) => {
          this.pending.delete(key);
          if (value !== undefined) this.set(key, value);
          return value;
        },
        (err: unknown) => {
          this.pending.delete(key);
          throw err;
        },
      );
      this.pending.set(key, inflight);
    }
    return inflight;
  }
}
