/**
 * The daemon's SQLite database (better-sqlite3, WAL): opening, pragmas and versioned migrations.
 * Each migration runs once, in a transaction, and bumps PRAGMA user_version. What the tables mean
 * lives with the code that owns them (eventStore.ts for inventory and events).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CoreError } from '../api/errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new CoreError('ERR_STORE', `cannot open database ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma('journal_mode = WAL');
    // Durability of the audit trail. In WAL mode both NORMAL and FULL keep every committed
    // transaction when the process is killed (SIGKILL): the WAL frames are in the OS page cache.
    // They differ on an OS crash or power loss: NORMAL fsyncs only at checkpoints and may lose the
    // last commits; FULL fsyncs the WAL at every commit. A security product chooses FULL: an event
    // the proxy already quoted (the audit id in a 403) must not vanish, and the head file written
    // after each commit must never be ahead of the database (that would read as tampering).
    // The cost is one fsync per transaction, so batch hot-path writes (AuditLog.enqueueDecision).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
  } catch (error) {
    db.close();
    if (error instanceof CoreError) throw error;
    throw new CoreError('ERR_STORE', `database ${file}: ${(error as Error).message}`, { cause: error });
  }
  return db;
}

/**
 * Opens an existing database for reading only (the CLI's audit verbs): no migrations, no writes,
 * safe while the daemon runs (WAL readers see a consistent snapshot without blocking it).
 */
export function openDatabaseReadOnly(file: string): Db {
  if (!existsSync(file)) throw new CoreError('ERR_NOT_FOUND', `no database at ${file} (the daemon has not run yet)`);
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (error) {
    throw new CoreError('ERR_STORE', `cannot open database ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new CoreError('ERR_STORE', `database schema version ${current} is newer than this Cordon (${latest}); upgrade Cordon`);
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
