/** 0001: the last known inventory and the append-only event log of inventory changes. */
import type { Migration } from './index.ts';

export const migration0001: Migration = {
  version: 1,
  name: 'inventory-events',
  up(db) {
    db.exec(`
      CREATE TABLE inventory_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        scanned_at TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        time TEXT NOT NULL,
        type TEXT NOT NULL,
        subject_id TEXT,
        summary TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX events_type_seq ON events (type, seq);
      CREATE INDEX events_time ON events (time);
    `);
  },
};
