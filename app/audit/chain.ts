/**
 * The single writer of the audit chain for one database connection: every event (decisions,
 * inventory changes, daemon events) gets the next seq and the previous event's hash here, so the
 * event store and the audit log, created separately on the same connection, share one chain.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
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
  /**
   * Appends rows committed but not fsynced (on a WAL database outside a caller's transaction;
   * anything else is a plain append). When this returns, the rows are in the database: the
   * process dying (SIGKILL, a crash) cannot lose them, and a write error throws. An OS crash or
   * power loss could, until sync() completes or the next append() (its fsync covers the whole
   * log). The head file is only written once they are fsynced: it never gets ahead of the disk.
   */
  appendSyncLater(inputs: readonly AuditRowInput[]): AuditRow[];
  /**
   * Fsyncs the rows appendSyncLater committed, off the event loop (libuv's thread pool), as a
   * group commit: one fsync at a time, and rows written while one runs share the next. Resolves
   * when every row committed before the call is on disk; rejects when the fsync fails.
   */
  sync(): Promise<void>;
  /** The same, blocking (before shutdown). Throws when the fsync fails. */
  syncNow(): void;
  /** True while rows from appendSyncLater wait for their fsync. */
  unsynced(): boolean;
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
  // appendSyncLater commits with synchronous=NORMAL (no fsync) and fsyncs the WAL file itself.
  // Only sound in WAL mode, where a commit is frames appended to that one file.
  const walFile = !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal' ? `${db.name}-wal` : null;
  const syncLevel = Number(db.pragma('synchronous', { simple: true }));
  const insert = db.prepare(`INSERT INTO events (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`);
  const lastRow = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
  const counter = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();

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

  /** The newest row appendSyncLater committed that is not known to be on disk yet. */
  let unsyncedHead: AuditHead | null = null;
  /** The seq in the head file (it only moves forward). */
  let headFileSeq = 0;
  let inFlight: Promise<void> | null = null;
  let next: Promise<void> | null = null;

  /** Rows up to `head` are on disk: the head file may say so. */
  const synced = (head: AuditHead): void => {
    if (unsyncedHead !== null && unsyncedHead.seq <= head.seq) unsyncedHead = null;
    writeHead(head);
  };

  /** One fdatasync of the WAL (fsync flushes the file whichever descriptor asks). */
  const fsyncOnce = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const target = unsyncedHead;
      // A closed connection checkpointed (and fsynced) everything on close.
      if (target === null || walFile === null || !db.open) {
        unsyncedHead = null;
        resolve();
        return;
      }
      let fd: number;
      try {
        fd = openSync(walFile, 'r+');
      } catch (error) {
        reject(error);
        return;
      }
      fdatasync(fd, (error) => {
        try {
          closeSync(fd);
        } catch {
          // Nothing was written through this descriptor.
        }
        // On failure the head file stays as it was: it must not claim rows whose durability is in doubt.
        if (error) reject(error);
        else {
          synced(target);
          resolve();
        }
      });
    });

  const sync = (): Promise<void> => {
    if (unsyncedHead === null) return Promise.resolve();
    if (inFlight === null) {
      inFlight = fsyncOnce().finally(() => (inFlight = null));
      return inFlight;
    }
    // The running fsync may have started before these rows were written: one more after it.
    next ??= inFlight.catch(() => undefined).then(() => {
      next = null;
      return sync();
    });
    return next;
  };

  const syncNow = (): void => {
    const target = unsyncedHead;
    if (target === null || walFile === null || !db.open) return;
    const fd = openSync(walFile, 'r+');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    synced(target);
  };

  const writeHead = (head: AuditHead): void => {
    if (headFile === null || head.seq <= headFileSeq) return;
    try {
      writeAuditHead(headFile, head);
      headFileSeq = head.seq;
    } catch {
      // The event is committed; a head file that cannot be written only lags (verify tolerates a lag).
    }
  };

  /** After a commit with synchronous=FULL: its fsync also covered every row appendSyncLater wrote before it. */
  const committedDurably = (): void => {
    unsyncedHead = null;
    const head = cursor?.head ?? null;
    if (head !== null) writeHead(head);
  };

  const append = (inputs: readonly AuditRowInput[]): AuditRow[] => {
    if (inputs.length === 0) return [];
    const nested = db.inTransaction;
    try {
      const rows = nested ? appendInTransaction(inputs) : appendInTransaction.immediate(inputs);
      if (nested) cursor = null; // the caller's transaction may still roll back
      else committedDurably();
      return rows;
    } catch (error) {
      cursor = null;
      throw error;
    }
  };

  return {
    headFile,
    append,
    appendSyncLater(inputs) {
      if (inputs.length === 0) return [];
      if (walFile === null || db.inTransaction) return append(inputs);
      // exec, not a prepared statement: SQLite applies this pragma when it compiles it.
      db.exec('PRAGMA synchronous = NORMAL');
      try {
        const rows = appendInTransaction.immediate(inputs);
        unsyncedHead = cursor?.head ?? null;
        return rows;
      } catch (error) {
        cursor = null;
        throw error;
      } finally {
        db.exec(`PRAGMA synchronous = ${syncLevel}`);
      }
    },
    sync,
    syncNow,
    unsynced: () => unsyncedHead !== null,
    transaction<T>(fn: () => T): T {
      const nested = db.inTransaction;
      try {
        const tx = db.transaction(fn);
        const changesBefore = nested ? 0 : (totalChanges.get() as number);
        const result = nested ? tx() : tx.immediate();
        cursor = null;
        if (!nested) {
          cursor = load(dataVersion.get() as number);
          // A transaction that wrote nothing committed nothing, so it fsynced nothing either.
          if ((totalChanges.get() as number) !== changesBefore) committedDurably();
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
