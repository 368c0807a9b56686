/**
 * The audit log: the daemon's one entry point for recording decisions and daemon events in the
 * hash-chained trail, and for verifying, querying and pruning it. Shares its chain with the event
 * store on the same connection (inventory changes are audit events too).
 */
import { newEventId } from './eventId.ts';
import type Database from 'better-sqlite3';
import type { AuditEvent, AuditPruneResult, AuditQuery, AuditRetention, AuditVerifyResult } from '../api/audit.ts';
import { auditChain, type AuditChain } from './chain.ts';
import { decisionRow, decisionRowAndData, type DecisionAuditInput } from './decision.ts';
import { eventRowInput, type AuditRowInput } from './hash.ts';
import type { AuditHead } from './headFile.ts';
import { auditEventOf, queryAudit, toAuditEvent } from './query.ts';
import { pruneAudit } from './retention.ts';
import { verifyAudit } from './verify.ts';

type Db = Database.Database;

/** Most events one transaction holds when the queue flushes. */
const MAX_BATCH = 1000;
/**
 * Group commit for queued decisions: the first one queued starts this window, and everything
 * queued within it shares one transaction. A commit costs about 100 us of the event loop whatever
 * it holds (WAL frames for the table and its five indexes, checkpoints), so under load this cuts
 * the audit's share of a proxied request several times (bench/proxy.bench.ts, the daemon row).
 * It is also how long an allowed exchange that has already ended may wait to be committed.
 */
const GROUP_COMMIT_MS = 2;

export type AuditLogOptions = Readonly<{
  /** Copy of the chain head, see headFile.ts. Default `<database file>-audit-head`; null: none. */
  headFile?: string | null;
  now?: () => Date;
  /** Called when a queued batch cannot be written (the events are lost; the daemon should log it). */
  onError?: (error: unknown, lost: number) => void;
  /**
   * Called when the background fsync after appendSyncLater fails: the events are committed, but
   * whether they survive an OS crash is in doubt. Default: onError with lost = 0.
   */
  onSyncError?: (error: unknown) => void;
}>;

export type QueuedAudit = Readonly<{
  /** The audit id, known before the write: quote it in responses. */
  id: string;
  /** Settles when the event is committed (or its batch failed). Ignoring it is safe. */
  committed: Promise<AuditEvent>;
}>;

export type AuditLog = Readonly<{
  /** Records one decision; committed (fsynced) when this returns. Use before answering a block. */
  appendDecision(input: DecisionAuditInput): AuditEvent;
  /** Records decisions in one transaction: one fsync for all of them. */
  appendBatch(inputs: readonly DecisionAuditInput[]): AuditEvent[];
  /**
   * Queues a decision; all decisions queued within GROUP_COMMIT_MS of the first commit together
   * (or at once, when MAX_BATCH are waiting, or before any other write or read of the log), in one
   * transaction fsynced in the background like appendSyncLater (on libuv's thread pool, never
   * blocking the event loop). For the hot path: allowed exchanges, recorded when they end. A
   * decision that blocks must use appendDecision.
   */
  enqueueDecision(input: DecisionAuditInput): QueuedAudit;
  /** Writes queued decisions and fsyncs appendSyncLater events, now (call before shutdown). */
  flush(): void;
  /** Records a non-decision event (daemon.started, settings.changed, approval.answered, ...). */
  append(type: string, summary: string, data: unknown, subjectId?: string): AuditEvent;
  /**
   * Records an event like append, committed when this returns (a daemon crash cannot lose it, a
   * write error throws) but fsynced in the background right after, one fsync for every event
   * written while the previous one ran (AuditChain.appendSyncLater and sync). For a decision
   * that lets an action through, answered at once; a deny must use append.
   */
  appendSyncLater(type: string, summary: string, data: unknown, subjectId?: string): AuditEvent;
  verify(): AuditVerifyResult;
  query(filter?: AuditQuery): AuditEvent[];
  /** Prunes by age/rows/size, leaving an audit.pruned anchor; queued decisions are flushed first. */
  prune(policy: AuditRetention, reason?: string): AuditPruneResult;
  head(): AuditHead | null;
}>;

/** A queued decision: its row, and the object the row's data column is the JSON of. */
type Pending = { row: AuditRowInput; data: unknown; resolve(e: AuditEvent): void; reject(e: unknown): void };

export function createAuditLog(db: Db, options: AuditLogOptions = {}): AuditLog {
  const chain: AuditChain = auditChain(db, options.headFile === undefined ? {} : { headFile: options.headFile });
  const now = options.now ?? (() => new Date());
  let queue: Pending[] = [];
  let scheduled: NodeJS.Timeout | null = null;
  const onSyncError = options.onSyncError ?? ((error: unknown) => options.onError?.(error, 0));

  const flush = (): void => {
    if (scheduled) clearTimeout(scheduled);
    scheduled = null;
    let written = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        const rows = chain.appendSyncLater(batch.map((p) => p.row));
        written = true;
        rows.forEach((row, i) => {
          const pending = batch[i];
          // The data object as written, unless chaining changed the text (ill-formed strings).
          if (pending) pending.resolve(row.data === pending.row.data ? auditEventOf(row, pending.data) : toAuditEvent(row));
        });
      } catch (error) {
        options.onError?.(error, batch.length);
        for (const p of batch) p.reject(error);
      }
    }
    if (written) chain.sync().catch(onSyncError);
  };

  return {
    // Every other write and read first commits what is queued: the trail keeps the order in which
    // decisions were made, and a query sees every exchange that has ended.
    appendDecision(input) {
      flush();
      const [row] = chain.append([decisionRow(input, now)]);
      return toAuditEvent(row!);
    },
    appendBatch(inputs) {
      flush();
      return chain.append(inputs.map((input) => decisionRow(input, now))).map(toAuditEvent);
    },
    enqueueDecision(input) {
      const { row, data } = decisionRowAndData(input, now);
      let resolve!: (e: AuditEvent) => void;
      let reject!: (e: unknown) => void;
      const committed = new Promise<AuditEvent>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      committed.catch(() => undefined); // a caller that does not await must not crash the daemon
      queue.push({ row, data, resolve, reject });
      if (queue.length >= MAX_BATCH) flush();
      else scheduled ??= setTimeout(flush, GROUP_COMMIT_MS);
      return { id: row.id, committed };
    },
    flush() {
      flush();
      try {
        chain.syncNow();
      } catch (error) {
        onSyncError(error);
      }
    },
    append(type, summary, data, subjectId) {
      flush();
      const [row] = chain.append([eventRowInput(newEventId(), now().toISOString(), type, summary, data, subjectId ?? null)]);
      return toAuditEvent(row!);
    },
    appendSyncLater(type, summary, data, subjectId) {
      flush();
      const [row] = chain.appendSyncLater([eventRowInput(newEventId(), now().toISOString(), type, summary, data, subjectId ?? null)]);
      chain.sync().catch(onSyncError);
      return toAuditEvent(row!);
    },
    verify() {
      flush();
      return verifyAudit(db, { headFile: chain.headFile });
    },
    query(filter = {}) {
      flush();
      return queryAudit(db, filter);
    },
    prune(policy, reason) {
      flush();
      return pruneAudit(db, policy, { now: now(), ...(reason !== undefined ? { reason } : {}) });
    },
    head: () => chain.head(),
  };
}
