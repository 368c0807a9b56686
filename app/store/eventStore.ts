/**
 * The daemon's record of what it saw: the last inventory (so changes made while the daemon was
 * down are still reported at start) and its events. Every event is appended to the hash-chained
 * audit trail (app/audit/chain.ts), in one transaction with the inventory it describes.
 */
import { newEventId } from '../audit/eventId.ts';
import type { Inventory, InventoryChange } from '../api/inventory.ts';
import type { CordonEvent, EventQuery } from '../api/control.ts';
import { auditChain } from '../audit/chain.ts';
import { eventRowInput, type AuditRow } from '../audit/hash.ts';
import type { Db } from './database.ts';

type EventRow = Pick<AuditRow, 'seq' | 'id' | 'time' | 'type' | 'subject_id' | 'summary' | 'data'>;

export type EventStore = Readonly<{
  latestInventory(): Inventory | null;
  /** Saves the inventory and appends one event per change, atomically. Returns the events. */
  recordScan(inventory: Inventory, changes: readonly InventoryChange[]): CordonEvent[];
  append(type: string, summary: string, data: unknown, subjectId?: string): CordonEvent;
  query(query: EventQuery): CordonEvent[];
  count(): number;
}>;

export function createEventStore(db: Db): EventStore {
  const getSnapshot = db.prepare<[], { body: string }>('SELECT body FROM inventory_snapshot WHERE id = 1');
  const putSnapshot = db.prepare('INSERT INTO inventory_snapshot (id, scanned_at, body) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET scanned_at = excluded.scanned_at, body = excluded.body');
  const chain = auditChain(db);
  const countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events');

  const rowOf = (type: string, summary: string, data: unknown, subjectId?: string) =>
    eventRowInput(newEventId(), new Date().toISOString(), type, summary, data, subjectId ?? null);

  const appendRow = (type: string, summary: string, data: unknown, subjectId?: string): CordonEvent => {
    const [row] = chain.append([rowOf(type, summary, data, subjectId)]);
    return { seq: row!.seq, id: row!.id, time: row!.time, type, subjectId: subjectId ?? null, summary, data: data ?? null };
  };

  const recordScan = (inventory: Inventory, changes: readonly InventoryChange[]): CordonEvent[] =>
    chain.transaction(() => {
      putSnapshot.run(inventory.scannedAt, JSON.stringify(inventory));
      const data = changes.map((c) => ({ before: c.before, after: c.after, fields: c.fields }));
      const rows = chain.append(changes.map((c, i) => rowOf(c.type, c.summary, data[i], c.id)));
      return rows.map((row, i) => ({ seq: row.seq, id: row.id, time: row.time, type: row.type, subjectId: row.subject_id, summary: row.summary, data: data[i] ?? null }));
    });

  return {
    latestInventory() {
      const row = getSnapshot.get();
      if (!row) return null;
      try {
        return JSON.parse(row.body) as Inventory;
      } catch {
        return null;
      }
    },
    recordScan: (inventory, changes) => recordScan(inventory, changes),
    append: appendRow,
    query(query) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.afterSeq !== undefined) {
        where.push('seq > ?');
        params.push(query.afterSeq);
      }
      if (query.since !== undefined) {
        where.push('time >= ?');
        params.push(query.since);
      }
      if (query.types && query.types.length > 0) {
        where.push(`type IN (${query.types.map(() => '?').join(',')})`);
        params.push(...query.types);
      }
      const limit = Math.max(1, Math.min(query.limit ?? 100, 10_000));
      // Newest first unless paging forward from a cursor.
      const order = query.afterSeq !== undefined ? 'ASC' : 'DESC';
      const sql = `SELECT seq, id, time, type, subject_id, summary, data FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ${limit}`;
      return (db.prepare(sql).all(...params) as EventRow[]).map(toEvent);
    },
    count: () => countStmt.get()?.n ?? 0,
  };
}

function toEvent(row: EventRow): CordonEvent {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    data = null;
  }
  return { seq: row.seq, id: row.id, time: row.time, type: row.type, subjectId: row.subject_id, summary: row.summary, data };
}
