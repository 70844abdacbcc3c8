import { CompiledQuery, type Compilable } from 'kysely';
import { nativeDatabase, type Db, type NativeDatabase } from './db.js';

/** Placeholder values: `build` receives one per parameter name, kysely collects them. */
const MARK = '\u0000gatehouse-param:';

type Slot = { name: string } | { value: unknown };

/**
 * A query on a hot path, built with kysely once (at start-up) instead of on every call: the
 * SQL text is kept, and each call binds new values to the same positions and runs the cached
 * better-sqlite3 statement directly.
 *
 * `build` receives a stand-in for the parameters and must only pass its fields through to
 * kysely as values (`where('id', '=', p.id)`, `values({ id: p.id })`), never inspect them or
 * use them as lists (`in`), identifiers or raw SQL. Constants in the query stay as compiled.
 *
 * While a kysely transaction is open (kysely holds the connection across awaits), a direct
 * statement would run inside it, so then the query goes through kysely and waits its turn.
 */
export class PreparedQuery<P extends object, R> {
  readonly sql: string;
  private readonly slots: Slot[];
  private readonly native: NativeDatabase | undefined;

  constructor(
    private readonly db: Db,
    build: (p: P) => Compilable<R>,
  ) {
    const standIn = new Proxy({}, { get: (_target, key) => (typeof key === 'string' ? MARK + key : undefined) }) as P;
    const compiled = build(standIn).compile();
    if (compiled.sql.includes(MARK)) throw new Error(`a parameter was compiled into the SQL text: ${compiled.sql}`);
    this.sql = compiled.sql;
    this.slots = compiled.parameters.map((v) =>
      typeof v === 'string' && v.startsWith(MARK) ? { name: v.slice(MARK.length) } : { value: v },
    );
    this.native = nativeDatabase(db);
  }

  /** The values for the placeholders, in order. */
  private bind(params: P): unknown[] {
    return this.slots.map((slot) => {
      if (!('name' in slot)) return slot.value;
      const value = (params as Record<string, unknown>)[slot.name];
      if (value === undefined) throw new TypeError(`parameter ${slot.name} is missing for: ${this.sql}`);
      return value;
    });
  }

  /** The better-sqlite3 statement, when no kysely transaction is open. */
  private direct(): ReturnType<NativeDatabase['prepare']> | undefined {
    return this.native && !this.native.sqlite.inTransaction ? this.native.prepare(this.sql) : undefined;
  }

  private viaKysely(values: unknown[]) {
    return this.db.executeQuery<R>(CompiledQuery.raw(this.sql, values));
  }

  async first(params: P): Promise<R | undefined> {
    const values = this.bind(params);
    const stmt = this.direct();
    if (stmt) return stmt.get(values) as R | undefined;
    return (await this.viaKysely(values)).rows[0];
  }

  async all(params: P): Promise<R[]> {
    const values = this.bind(params);
    const stmt = this.direct();
    if (stmt) return stmt.all(values) as R[];
    return (await this.viaKysely(values)).rows;
  }

  /**
   * This write with its values, for runInTransaction. With `mustChange`, a write that changes no
   * row (a conditional update that lost a race) rolls the whole transaction back.
   */
  step(params: P, options: { mustChange?: boolean } = {}): TransactionStep {
    return { sql: this.sql, values: this.bind(params), mustChange: options.mustChange ?? false };
  }

  /** Runs a write; the number of rows it changed. */
  async run(params: P): Promise<number> {
    const values = this.bind(params);
    const stmt = this.direct();
    if (stmt) return stmt.run(values).changes;
    return Number((await this.viaKysely(values)).numAffectedRows ?? 0n);
  }
}

/** One write of a transaction, its values bound (PreparedQuery.step). */
export interface TransactionStep {
  sql: string;
  values: unknown[];
  /** The transaction is rolled back when this write changes no row. */
  mustChange?: boolean;
}

/** Thrown inside a transaction to roll it back when a `mustChange` step changed nothing. */
class Unchanged extends Error {}

/**
 * Runs writes in one transaction: synchronously through better-sqlite3 when it can (nothing
 * else can interleave), else as a kysely transaction, which waits for the connection. All or
 * nothing: true when every write ran, false when a `mustChange` step changed no row, and a
 * failing write rejects; in both cases nothing was written.
 */
export async function runInTransaction(db: Db, steps: TransactionStep[]): Promise<boolean> {
  try {
    const native = nativeDatabase(db);
    if (native && !native.sqlite.inTransaction) {
      native.sqlite.transaction(() => {
        for (const { sql, values, mustChange } of steps) {
          if (native.prepare(sql).run(values).changes === 0 && mustChange) throw new Unchanged();
        }
      })();
      return true;
    }
    await db.transaction().execute(async (trx) => {
      for (const { sql, values, mustChange } of steps) {
        const { numAffectedRows } = await trx.executeQuery(CompiledQuery.raw(sql, values));
        if (!numAffectedRows && mustChange) throw new Unchanged();
      }
    });
    return true;
  } catch (err) {
    if (err instanceof Unchanged) return false;
    throw err;
  }
}
