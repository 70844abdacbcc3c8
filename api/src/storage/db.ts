import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createPrivateFile } from '../lib/private-files.js';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';

export type Db = Kysely<Database>;

/** The better-sqlite3 handle under a Db, with the statement cache kysely uses too. */
export interface NativeDatabase {
  sqlite: BetterSqlite3.Database;
  prepare(sql: string): BetterSqlite3.Statement;
}

const natives = new WeakMap<Db, NativeDatabase>();

/** For storage/prepared.ts: the native handle of a Db opened by openDatabase. */
export function nativeDatabase(db: Db): NativeDatabase | undefined {
  return natives.get(db);
}

/**
 * kysely prepares every statement it runs; better-sqlite3 statements are reusable, so keep
 * one per distinct SQL text. The set of SQL texts is small and fixed by the code.
 */
function withStatementCache(db: BetterSqlite3.Database): NativeDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    sqlite: db,
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

export interface OpenedDatabase {
  db: Db;
  sqlite: BetterSqlite3.Database;
  close(): Promise<void>;
}

const DATABASE_FILE = 'gatehouse.db';

/** The database file and the WAL and shared-memory files SQLite keeps beside it. */
export function databaseFiles(dataDir: string): string[] {
  const file = path.join(dataDir, DATABASE_FILE);
  return [file, `${file}-wal`, `${file}-shm`];
}

/**
 * Opens (creating if needed) `<dataDir>/gatehouse.db` and brings its schema up to date. A new
 * database is created with mode 0600 whatever the umask, and SQLite gives its -wal and -shm
 * files the database file's mode; an existing file keeps its own.
 */
export async function openDatabase(dataDir: string): Promise<OpenedDatabase> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, DATABASE_FILE);
  createPrivateFile(file);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const native = withStatementCache(sqlite);
  const database: SqliteDatabase = {
    close: () => sqlite.close(),
    prepare: (sql) => native.prepare(sql) as unknown as SqliteStatement,
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  natives.set(db, native);

  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
  return { db, sqlite, close: () => db.destroy() };
}
