/**
 * The SQLite implementation of SqlDriver (better-sqlite3, WAL, synchronous FULL by default: an
 * acknowledged batch must survive a power cut). Statements and transactions are queued so an
 * awaiting transaction never interleaves with another caller's statements; connections to the
 * same file in one process share one queue (they would otherwise wait on each other's locks).
 * Transactions are group-committed: one fsync for all that were waiting.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CoreError } from '../../app/api/errors.ts';
import type { InsertOptions, SqlDriver, SqlExecutor, SqlParams, SqlValue } from './driver.ts';

type Statement = Database.Statement<unknown[], unknown>;

/** Most transactions one group commit holds. */
const GROUP_MAX = 64;

/** Serializes work across the connections that share it. */
export type SqliteQueue = <T>(fn: () => Promise<T> | T) => Promise<T>;

export function createSqliteQueue(): SqliteQueue {
  // A FIFO lock: every call waits for the previous one.
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T> | T): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export type SqliteDriverOptions = Readonly<{
  /**
   * FULL (default) fsyncs every commit. NORMAL is for data whose loss on a power cut is
   * harmless (DPoP replay ids and nonces): a killed process still loses nothing.
   */
  synchronous?: 'FULL' | 'NORMAL';
  queue?: SqliteQueue;
}>;

export function openSqliteDriver(file: string, options: SqliteDriverOptions = {}): SqlDriver {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('busy_timeout = 10000');
    // A server database: a larger page cache for the indexes, and fewer, larger checkpoints.
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 4000');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw new CoreError('ERR_STORE', `cannot open SQLite database ${file}: ${(error as Error).message}`, { cause: error });
  }
  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (cache.size > 500) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt;
  };

  // Every public call waits for the previous one, so a transaction that awaits between
  // statements owns the connection until it commits or rolls back.
  const exclusive = options.queue ?? createSqliteQueue();

  const direct: SqlExecutor = {
    async all<T>(sql: string, params: SqlParams = []) {
      return prepare(sql).all(...params) as T[];
    },
    async get<T>(sql: string, params: SqlParams = []) {
      return prepare(sql).get(...params) as T | undefined;
    },
    async run(sql: string, params: SqlParams = []) {
      const stmt = prepare(sql);
      if (stmt.reader) {
        const rows = stmt.all(...params);
        return { changes: rows.length };
      }
      return { changes: stmt.run(...params).changes };
    },
    async insertMany(table: string, columns: readonly string[], rows: readonly SqlParams[], options: InsertOptions = {}) {
      if (rows.length === 0) return [];
      const stmt = prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${options.onConflict ?? ''}`);
      // RETURNING costs a row fetch per insert; `changes` tells the same for single-row inserts.
      const key = options.returning === undefined ? -1 : columns.indexOf(options.returning);
      if (options.returning !== undefined && key < 0) throw new Error(`returning column ${options.returning} is not inserted`);
      const out: SqlValue[] = [];
      const insert = (): void => {
        for (const row of rows) {
          const { changes } = stmt.run(...row);
          if (key >= 0 && changes > 0) out.push(row[key] ?? null);
        }
      };
      if (db.inTransaction) insert();
      else db.transaction(insert).immediate();
      return out;
    },
  };

  // Group commit: transactions queued while a commit (and its fsync) runs share the next one.
  // Each runs in its own savepoint, so one that fails rolls back alone; each caller is answered
  // only once the commit holding its work is durable.
  type Queued = { fn: (tx: SqlExecutor) => Promise<unknown>; resolve(value: unknown): void; reject(error: unknown): void };
  const pending: Queued[] = [];
  let flushing = false;
  const runGroup = (group: readonly Queued[]): Promise<void> =>
    exclusive(async () => {
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        for (const item of group) item.reject(error);
        return;
      }
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      for (const item of group) {
        db.exec('SAVEPOINT work');
        try {
          const value = await item.fn(direct);
          db.exec('RELEASE work');
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK TO work; RELEASE work');
          outcomes.push({ ok: false, error });
        }
      }
      try {
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        for (const item of group) item.reject(error);
        return;
      }
      group.forEach((item, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) item.resolve(outcome.value);
        else item.reject(outcome?.error);
      });
    });
  const flush = async (): Promise<void> => {
    flushing = true;
    try {
      while (pending.length > 0) {
        // One event-loop turn first: requests that arrived during the last commit join this one.
        await new Promise((resolve) => setImmediate(resolve));
        await runGroup(pending.splice(0, GROUP_MAX));
      }
    } finally {
      flushing = false;
    }
  };

  return {
    dialect: 'sqlite',
    all: (sql, params) => exclusive(() => direct.all(sql, params)),
    get: (sql, params) => exclusive(() => direct.get(sql, params)),
    run: (sql, params) => exclusive(() => direct.run(sql, params)),
    insertMany: (table, columns, rows, options) => exclusive(() => direct.insertMany(table, columns, rows, options)),
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        if (!flushing) void flush();
      });
    },
    exec: (script) => exclusive(() => void db.exec(script)),
    // SQLite: BEGIN IMMEDIATE inside migrate() already excludes other processes.
    withMigrationLock: (fn) => fn(),
    async close() {
      await exclusive(() => undefined);
      if (db.open) db.close();
    },
  };
}
