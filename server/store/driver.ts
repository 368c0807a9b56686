/**
 * The one SQL surface the fleet store is written against: `?` placeholders, plain values, async
 * calls and transactions. sqliteDriver.ts and postgresDriver.ts implement it; nothing else in the
 * server talks to a database client directly.
 */

export type Dialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | null;
export type SqlParams = readonly SqlValue[];

export type InsertOptions = Readonly<{ onConflict?: string; returning?: string }>;

/** Statements that run on a connection (or inside a transaction). */
export type SqlExecutor = Readonly<{
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Runs a statement; changes = rows inserted, updated or deleted. */
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
  /**
   * Inserts many rows into table (columns in order) with an optional `ON CONFLICT ...` clause.
   * With `returning` (a column name), resolves to that column's values for the rows actually
   * inserted (not those a conflict skipped); otherwise to an empty list.
   */
  insertMany(table: string, columns: readonly string[], rows: readonly SqlParams[], options?: InsertOptions): Promise<SqlValue[]>;
}>;

export type SqlDriver = SqlExecutor &
  Readonly<{
    dialect: Dialect;
    /**
     * Runs fn in one transaction: committed when it resolves, rolled back when it throws. On
     * SQLite, transactions (and all other statements) are serialized in this process.
     */
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
    /** Runs a script of several statements (migrations). */
    exec(script: string): Promise<void>;
    /** Holds a database-wide lock while fn runs (migrations when several processes start at once). */
    withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
    close(): Promise<void>;
  }>;

/** Escapes LIKE wildcards so user search text matches literally (use with `ESCAPE '\'`). */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
