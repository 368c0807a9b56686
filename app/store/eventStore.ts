/**
 * The daemon's record of what it saw: the last inventory (so changes made while the daemon was
 * down are still reported at start) and an append-only log of events. Events are written in one
 * transaction with the inventory they describe, so the two never disagree.
 */
import { randomUUID } from 'node:crypto';
import type { Inventory, InventoryChange } from '../api/inventory.ts';
import type { CordonEvent, EventQuery } from '../api/control.ts';
import type { Db } from './database.ts';

type EventRow = { seq: number; id: string; time: string; type: string; subject_id: string | null; summary: string; data: string };

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
  const insert = db.prepare('INSERT INTO events (id, time, type, subject_id, summary, data) VALUES (?, ?, ?, ?, ?, ?)');
  const countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events');

  const appendRow = (type: string, summary: string, data: unknown, subjectId?: string): CordonEvent => {
    const id = randomUUID();
    const time = new Date().toISOString();
    const info = insert.run(id, time, type, subjectId ?? null, summary, JSON.stringify(data ?? null));
    return { seq: Number(info.lastInsertRowid), id, time, type, subjectId: subjectId ?? null, summary, data: data ?? null };
  };

  const recordScan = db.transaction((inventory: Inventory, changes: readonly InventoryChange[]): CordonEvent[] => {
    putSnapshot.run(inventory.scannedAt, JSON.stringify(inventory));
    return changes.map((c) => appendRow(c.type, c.summary, { before: c.before, after: c.after, fields: c.fields }, c.id));
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
  let data: unknown = null;
  try {
    data = JSON.parse(row.data);
  } catch {
    data = null;
  }
  return { seq: row.seq, id: row.id, time: row.time, type: row.type, subjectId: row.subject_id, summary: row.summary, data };
}
