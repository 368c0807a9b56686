/**
 * The single writer of the audit chain for one database connection: every event (decisions,
 * inventory changes, daemon events) gets the next seq and the previous event's hash here, so the
 * event store and the audit log, created separately on the same connection, share one chain.
 */
import type Database from 'better-sqlite3';
import { AUDIT_COLUMNS, GENESIS_HASH, chainRow, rowParams, type AuditRow, type AuditRowInput } from './hash.ts';
import { headFileFor, writeAuditHead, type AuditHead } from './headFile.ts';

type Db = Database.Database;

export type AuditChain = Readonly<{
  /**
   * Appends rows in one transaction (a savepoint when the caller already holds one) and returns
   * them as stored. When this returns outside a caller's transaction, the rows are committed.
   */
  append(inputs: readonly AuditRowInput[]): AuditRow[];
  /** Runs fn in one write transaction; appends inside it join the chain in order. */
  transaction<T>(fn: () => T): T;
  /** The newest committed event's seq and hash (null for an empty trail). */
  head(): AuditHead | null;
  /** The head file this chain updates after each commit (null: none). */
  headFile: string | null;
}>;

export type AuditChainOptions = Readonly<{
  /** Where to keep the copy of the head; default `<database file>-audit-head`; null for none. */
  headFile?: string | null;
}>;

type Cursor = { nextSeq: number; prevHash: string; head: AuditHead | null; dataVersion: number };

const chains = new WeakMap<Db, AuditChain>();

/**
 * The chain of a connection, created on first use. Options only apply to the first call for a
 * connection (the daemon's event store and audit log get the same chain).
 */
export function auditChain(db: Db, options: AuditChainOptions = {}): AuditChain {
  let chain = chains.get(db);
  if (!chain) {
    chain = createChain(db, options.headFile === undefined ? headFileFor(db.name) : options.headFile);
    chains.set(db, chain);
  }
  return chain;
}

function createChain(db: Db, headFile: string | null): AuditChain {
  // Audit commits are fsynced (see database.ts); enforce it for connections opened elsewhere too.
  if (!db.inTransaction && !db.memory && (db.pragma('synchronous', { simple: true }) as number) < 2) db.pragma('synchronous = FULL');
  const insert = db.prepare(`INSERT INTO events (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`);
  const lastRow = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
  const counter = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();

  // The in-memory cursor saves two lookups per append. It is trusted only while no other
  // connection has committed (data_version unchanged) and only after our own commit succeeded;
  // otherwise it is re-read from the last row, which is also how a restart after a crash resumes.
  let cursor: Cursor | null = null;

  const load = (version: number): Cursor => {
    const last = lastRow.get();
    // The counter never goes back, even if the newest rows were deleted: new events must not
    // reuse their seqs, so the deletion stays visible as a gap.
    const top = Math.max(last?.seq ?? 0, counter.get()?.seq ?? 0);
    return { nextSeq: top + 1, prevHash: last?.hash ?? GENESIS_HASH, head: last ? { seq: last.seq, hash: last.hash } : null, dataVersion: version };
  };

  const current = (): Cursor => {
    const version = dataVersion.get() as number;
    if (cursor === null || cursor.dataVersion !== version) cursor = load(version);
    return cursor;
  };

  const appendInTransaction = db.transaction((inputs: readonly AuditRowInput[]): AuditRow[] => {
    const start = current();
    let seq = start.nextSeq;
    let prevHash = start.prevHash;
    const rows: AuditRow[] = [];
    for (const input of inputs) {
      const row = chainRow(input, seq, prevHash);
      insert.run(rowParams(row));
      rows.push(row);
      prevHash = row.hash;
      seq++;
    }
    const last = rows.at(-1);
    cursor = { ...start, nextSeq: seq, prevHash, head: last ? { seq: last.seq, hash: last.hash } : start.head };
    return rows;
  });

  const afterCommit = (): void => {
    const head = cursor?.head ?? null;
    if (headFile === null || head === null) return;
    try {
      writeAuditHead(headFile, head);
    } catch {
      // The event is committed; a head file that cannot be written only lags (verify tolerates a lag).
    }
  };

  return {
    headFile,
    append(inputs) {
      if (inputs.length === 0) return [];
      const nested = db.inTransaction;
      try {
        const rows = nested ? appendInTransaction(inputs) : appendInTransaction.immediate(inputs);
        if (nested) cursor = null; // the caller's transaction may still roll back
        else afterCommit();
        return rows;
      } catch (error) {
        cursor = null;
        throw error;
      }
    },
    transaction<T>(fn: () => T): T {
      const nested = db.inTransaction;
      try {
        const tx = db.transaction(fn);
        const result = nested ? tx() : tx.immediate();
        cursor = null;
        if (!nested) {
          cursor = load(dataVersion.get() as number);
          afterCommit();
        }
        return result;
      } catch (error) {
        cursor = null;
        throw error;
      }
    },
    head() {
      return db.inTransaction ? load(0).head : current().head;
    },
  };
}
