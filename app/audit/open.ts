/**
 * Opening the audit trail from outside the daemon (the CLI): read-only, with clear errors for a
 * missing, foreign, too-old or too-new database. Reading never blocks the running daemon (WAL).
 */
import type Database from 'better-sqlite3';
import { CoreError } from '../api/errors.ts';
import { openDatabaseReadOnly, schemaVersion } from '../store/database.ts';
import { MIGRATIONS } from '../store/migrations/index.ts';

/** The schema version that made the events table the audit chain (migration 0002). */
export const AUDIT_SCHEMA_VERSION = 2;

export function openAuditReadOnly(file: string): Database.Database {
  const db = openDatabaseReadOnly(file);
  try {
    const version = storeCall(() => schemaVersion(db), file);
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (version > latest) throw new CoreError('ERR_STORE', `database schema version ${version} is newer than this Cordon (${latest}); upgrade Cordon`);
    if (version < AUDIT_SCHEMA_VERSION) {
      throw new CoreError('ERR_STORE', `database ${file} predates the audit trail (schema ${version}); start the daemon once to upgrade it`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Runs a database call, turning SQLite errors (corrupt file, not a database, I/O) into ERR_STORE. */
export function storeCall<T>(fn: () => T, file: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CoreError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      throw new CoreError('ERR_STORE', `database ${file}: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}
