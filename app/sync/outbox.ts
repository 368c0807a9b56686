/**
 * The sync outbox in the daemon's SQLite: copies of audit events waiting for the fleet server's
 * acknowledgement, filled from the hash-chained `events` table by a copy pointer, drained in seq
 * order. The buffer is bounded; when it is full the stated policy applies (see BUFFER_POLICY).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../api/audit.ts';
import { SYNC_LIMITS, type SyncEvent } from '../api/sync.ts';
import { auditChain } from '../audit/chain.ts';
import { eventRowInput, type AuditRow } from '../audit/hash.ts';
import { toAuditEvent } from '../audit/query.ts';

type Db = Database.Database;

/**
 * What happens when the outbox is full (maxRows events or maxBytes of event text):
 * 1. the oldest LOW events (daemon lifecycle and other routine events) are dropped first,
 * 2. then the oldest NORMAL events (inventory changes, settings, sync and other non-decisions),
 * 3. DECISION events (anything with a policy decision) and the records of earlier drops are
 *    never dropped: when only those are left, copying stops and new events wait in the audit
 *    trail itself (backpressure) until the server acknowledges some. If audit retention prunes
 *    events before they were copied, that loss is recorded too.
 * Every drop is recorded as a `sync.dropped` audit event (counts, seq range, reason), which is
 * itself uploaded, so the server sees what it will never receive.
 */
export const BUFFER_POLICY = 'drop oldest low-severity events first, then oldest normal events; never decisions (backpressure instead); every drop recorded as sync.dropped';

/** 0: routine, dropped first; 1: normal; 2: decisions and drop records, never dropped. */
export type Severity = 0 | 1 | 2;

export const DROPPED_EVENT_TYPE = 'sync.dropped';

export type OutboxLimits = Readonly<{ maxRows: number; maxBytes: number }>;
export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { maxRows: 100_000, maxBytes: 64 * 1024 * 1024 };

export type OutboxBatch = Readonly<{ after: number; events: SyncEvent[]; bodies: string[]; lastSeq: number }>;

export type OutboxStats = Readonly<{ pending: number; bytes: number; decisions: number; copiedThrough: number; ackedCursor: number; droppedTotal: number; backpressure: boolean }>;

export type Outbox = Readonly<{
  /** Copies new audit events into the outbox (at most `budget` per call), applying the buffer policy. */
  fill(now: number, budget?: number): { copied: number; dropped: number; backpressure: boolean };
  /** The next batch in seq order (bounded by event count and bytes), or null when empty. */
  nextBatch(maxEvents?: number, maxBytes?: number): OutboxBatch | null;
  /** The server stored everything up to lastSeq: forget it and remember the cursor. */
  acknowledge(batch: OutboxBatch, cursor: number): void;
  /** A failed attempt: attempt counts and the next attempt time of the batch's rows. */
  recordFailure(batch: OutboxBatch, nextAttemptAt: number, error: string): void;
  /** The server refused these events for good (invalid): remove and record them. */
  reject(seqs: readonly number[], reason: string, now: number): void;
  /** Starts copying after the current head (a fresh enrollment uploads the trail as it is now). */
  reset(copiedThrough: number): void;
  stats(): OutboxStats;
}>;

const CHUNK = 500;

export function createOutbox(db: Db, limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS): Outbox {
  const chain = auditChain(db);
  const state = db.prepare<[], { copied_through: number; acked_cursor: number; dropped_total: number }>('SELECT copied_through, acked_cursor, dropped_total FROM sync_state WHERE id = 1');
  const newEvents = db.prepare<[number, number], AuditRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  const insert = db.prepare('INSERT OR IGNORE INTO sync_outbox (seq, event_id, severity, body, bytes, enqueued_at) VALUES (?, ?, ?, ?, ?, ?)');
  const totals = db.prepare<[], { n: number; bytes: number | null; decisions: number | null }>('SELECT count(*) AS n, sum(bytes) AS bytes, sum(severity = 2) AS decisions FROM sync_outbox');
  const droppable = db.prepare<[number, number], { seq: number; bytes: number; severity: number }>('SELECT seq, bytes, severity FROM sync_outbox WHERE severity = ? ORDER BY seq LIMIT ?');
  const deleteSeq = db.prepare('DELETE FROM sync_outbox WHERE seq = ?');
  const setCopied = db.prepare('UPDATE sync_state SET copied_through = ? WHERE id = 1');
  const addDropped = db.prepare('UPDATE sync_state SET dropped_total = dropped_total + ? WHERE id = 1');
  const batchRows = db.prepare<[number], { seq: number; body: string; bytes: number }>('SELECT seq, body, bytes FROM sync_outbox ORDER BY seq LIMIT ?');
  const ackRows = db.prepare('DELETE FROM sync_outbox WHERE seq <= ?');
  const setCursor = db.prepare('UPDATE sync_state SET acked_cursor = max(acked_cursor, ?) WHERE id = 1');
  const failRows = db.prepare('UPDATE sync_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq <= ?');
  const newerThan = db.prepare<[number], { seq: number }>('SELECT seq FROM events WHERE seq > ? LIMIT 1');

  const recordDrop = (count: number, fromSeq: number, toSeq: number, bySeverity: Record<string, number>, reason: string, now: number): void => {
    if (count === 0) return;
    addDropped.run(count);
    const data = { count, fromSeq, toSeq, bySeverity, reason, policy: BUFFER_POLICY };
    chain.append([eventRowInput(randomUUID(), new Date(now).toISOString(), DROPPED_EVENT_TYPE, `sync dropped ${count} audit event${count === 1 ? '' : 's'} (${reason})`, data, null)]);
  };

  /**
   * Drops low, then normal events (oldest first) until the buffer is under 90% of its bounds with
   * room for `incoming` bytes: one sync.dropped record per burst, not one per event.
   */
  const makeRoom = (rows: number, bytes: number, incoming: number, now: number): void => {
    const targetRows = Math.min(limits.maxRows - 1, Math.floor(limits.maxRows * 0.9));
    const targetBytes = Math.min(limits.maxBytes - incoming, Math.floor(limits.maxBytes * 0.9));
    const bySeverity: Record<string, number> = {};
    let count = 0;
    let fromSeq = Number.MAX_SAFE_INTEGER;
    let toSeq = 0;
    for (const severity of [0, 1] as const) {
      while (rows > targetRows || bytes > targetBytes) {
        const page = droppable.all(severity, 1000);
        if (page.length === 0) break;
        for (const row of page) {
          if (rows <= targetRows && bytes <= targetBytes) break;
          deleteSeq.run(row.seq);
          rows--;
          bytes -= row.bytes;
          count++;
          fromSeq = Math.min(fromSeq, row.seq);
          toSeq = Math.max(toSeq, row.seq);
          const name = severityName(severity);
          bySeverity[name] = (bySeverity[name] ?? 0) + 1;
        }
      }
    }
    recordDrop(count, fromSeq, toSeq, bySeverity, 'outbox full', now);
  };

  const fill = (now: number, budget = 10 * CHUNK): { copied: number; dropped: number; backpressure: boolean } => {
    let copied = 0;
    let droppedCount = 0;
    let backpressure = false;
    while (copied < budget && !backpressure) {
      const chunk = chain.transaction(() => {
        const s = state.get();
        if (!s) return { n: 0, more: false };
        const rows = newEvents.all(s.copied_through, CHUNK);
        if (rows.length === 0) return { n: 0, more: false };
        const first = rows[0];
        if (s.copied_through > 0 && first && first.seq > s.copied_through + 1) {
          // Audit retention removed events before they were copied.
          const lost = first.seq - s.copied_through - 1;
          recordDrop(lost, s.copied_through + 1, first.seq - 1, { unknown: lost }, 'pruned from the audit trail before upload', now);
          droppedCount += lost;
        }
        const t = totals.get();
        let n = t?.n ?? 0;
        let bytes = t?.bytes ?? 0;
        let through = s.copied_through;
        let count = 0;
        for (const row of rows) {
          const event = toAuditEvent(row);
          const body = JSON.stringify(event);
          const size = Buffer.byteLength(body);
          if (size > SYNC_LIMITS.maxEventBytes) {
            recordDrop(1, row.seq, row.seq, { [severityName(severityOf(event))]: 1 }, `event larger than the protocol's ${SYNC_LIMITS.maxEventBytes} bytes`, now);
            droppedCount++;
            through = row.seq;
            continue;
          }
          if (n + 1 > limits.maxRows || bytes + size > limits.maxBytes) {
            const before = totals.get();
            makeRoom(n, bytes, size, now);
            const after = totals.get();
            droppedCount += (before?.n ?? 0) - (after?.n ?? 0);
            n = after?.n ?? 0;
            bytes = after?.bytes ?? 0;
            if (n + 1 > limits.maxRows || bytes + size > limits.maxBytes) {
              backpressure = true;
              break;
            }
          }
          insert.run(row.seq, row.id, severityOf(event), body, size, now);
          n++;
          bytes += size;
          through = row.seq;
          count++;
        }
        setCopied.run(through);
        return { n: count, more: rows.length === CHUNK };
      });
      copied += chunk.n;
      if (!chunk.more) break;
    }
    return { copied, dropped: droppedCount, backpressure };
  };

  return {
    fill,
    nextBatch(maxEvents = SYNC_LIMITS.maxBatchEvents, maxBytes = 4 * 1024 * 1024) {
      const s = state.get();
      const rows = batchRows.all(Math.min(maxEvents, SYNC_LIMITS.maxBatchEvents));
      const events: SyncEvent[] = [];
      const bodies: string[] = [];
      let size = 0;
      for (const row of rows) {
        if (events.length > 0 && size + row.bytes > maxBytes) break;
        size += row.bytes;
        bodies.push(row.body);
        events.push(JSON.parse(row.body) as SyncEvent);
      }
      const last = rows[events.length - 1];
      if (!last) return null;
      return { after: s?.acked_cursor ?? 0, events, bodies, lastSeq: last.seq };
    },
    acknowledge(batch, cursor) {
      db.transaction(() => {
        ackRows.run(Math.min(cursor, batch.lastSeq));
        setCursor.run(cursor);
      }).immediate();
    },
    recordFailure(batch, nextAttemptAt, error) {
      failRows.run(nextAttemptAt, error.slice(0, 500), batch.lastSeq);
    },
    reject(seqs, reason, now) {
      if (seqs.length === 0) return;
      chain.transaction(() => {
        for (const seq of seqs) deleteSeq.run(seq);
        recordDrop(seqs.length, Math.min(...seqs), Math.max(...seqs), { refused: seqs.length }, `refused by the server: ${reason}`.slice(0, 300), now);
      });
    },
    reset(copiedThrough) {
      db.transaction(() => {
        db.prepare('DELETE FROM sync_outbox').run();
        db.prepare('UPDATE sync_state SET copied_through = ?, acked_cursor = 0 WHERE id = 1').run(copiedThrough);
      }).immediate();
    },
    stats() {
      const s = state.get();
      const t = totals.get();
      const pending = t?.n ?? 0;
      const bytes = t?.bytes ?? 0;
      const decisions = t?.decisions ?? 0;
      const hasNewer = newerThan.get(s?.copied_through ?? 0) !== undefined;
      return {
        pending, bytes, decisions, copiedThrough: s?.copied_through ?? 0, ackedCursor: s?.acked_cursor ?? 0, droppedTotal: s?.dropped_total ?? 0,
        backpressure: hasNewer && (pending >= limits.maxRows || bytes >= limits.maxBytes),
      };
    },
  };
}

/** The buffer-policy class of an audit event. Records of drops are kept like decisions: they are the proof of what is missing. */
export function severityOf(event: Pick<AuditEvent, 'decision' | 'type'>): Severity {
  if (event.decision !== null || event.type === DROPPED_EVENT_TYPE) return 2;
  // Tamper evidence (the daemon killed or stopped outside its service manager) is not routine.
  if (/^(daemon|watcher|scan)\./.test(event.type) && !/^daemon\.(unclean-stop|stopped-outside-service)$/.test(event.type)) return 0;
  return 1;
}

function severityName(severity: Severity): string {
  return severity === 0 ? 'low' : severity === 1 ? 'normal' : 'decision';
}
