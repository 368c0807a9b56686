/**
 * The daemon's SQLite database (better-sqlite3, WAL): opening, pragmas and versioned migrations.
 * Each migration runs once, in a transaction, and bumps PRAGMA user_version. What the tables mean
 * lives with the code that owns them (eventStore.ts for inventory and events).
 */
import { mkdirSync } from 'node:fs';
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
    // NORMAL in WAL mode: a committed transaction survives the process being killed (SIGKILL);
    // only an OS crash or power loss can lose the last transactions.
    db.pragma('synchronous = NORMAL');
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
