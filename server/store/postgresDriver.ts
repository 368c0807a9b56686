/**
 * The PostgreSQL implementation of SqlDriver (node-postgres pool). `?` placeholders become $n,
 * BIGINT comes back as a JS number (ids and millisecond times stay below 2^53), and a broken
 * connection is an error value for the caller, never a crash of the process.
 */
import pg from 'pg';
import { CoreError } from '../../app/api/errors.ts';
import type { Logger } from '../../app/util/log.ts';
import type { InsertOptions, SqlDriver, SqlExecutor, SqlParams, SqlValue } from './driver.ts';

/** PostgreSQL refuses more than 65535 parameters per statement. */
const MAX_PARAMS = 60_000;
const INT8_OID = 20;
/** pg_advisory_lock key for migrations ("cordon" in ASCII). */
const MIGRATION_LOCK_KEY = 0x636f72646f6e;

export type PostgresDriverOptions = Readonly<{ url: string; log?: Logger; maxConnections?: number }>;

export async function openPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: types as pg.CustomTypesConfig,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart) emits here; without a listener the
  // process would crash. The next query gets a fresh connection.
  pool.on('error', (error) => options.log?.warn('postgres connection lost', { error: error.message }));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new CoreError('ERR_STORE', `cannot connect to PostgreSQL at ${redactUrl(options.url)}: ${(error as Error).message}`, { cause: error });
  }

  const executor = (q: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async all<T>(sql: string, params: SqlParams = []) {
      return (await q.query(toPg(sql), params as unknown[])).rows as T[];
    },
    async get<T>(sql: string, params: SqlParams = []) {
      return (await q.query(toPg(sql), params as unknown[])).rows[0] as T | undefined;
    },
    async run(sql: string, params: SqlParams = []) {
      return { changes: (await q.query(toPg(sql), params as unknown[])).rowCount ?? 0 };
    },
    async insertMany(table: string, columns: readonly string[], rows: readonly SqlParams[], options: InsertOptions = {}) {
      const out: SqlValue[] = [];
      const tail = `${options.onConflict ?? ''}${options.returning !== undefined ? ` RETURNING ${options.returning}` : ''}`;
      const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => `(${row.map((value) => (params.push(value), `$${params.length}`)).join(', ')})`);
        const result = await q.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${tail}`, params);
        if (options.returning !== undefined) for (const row of result.rows as Record<string, SqlValue>[]) out.push(row[options.returning] ?? null);
      }
      return out;
    },
  });

  const poolExecutor = executor(pool);
  return {
    dialect: 'postgres',
    ...poolExecutor,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async withMigrationLock<T>(fn: () => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          return await fn();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
        }
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

const converted = new Map<string, string>();

/** `?` placeholders to `$1..$n`, leaving quoted literals alone (memoized: the store reuses its SQL). */
export function toPg(sql: string): string {
  const known = converted.get(sql);
  if (known !== undefined) return known;
  let out = '';
  let n = 0;
  let quoted = false;
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  if (converted.size > 1000) converted.clear();
  converted.set(sql, out);
  return out;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
