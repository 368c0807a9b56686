/**
 * 0003: the fleet sync client's tables. `sync_outbox` holds copies of audit events waiting for the
 * server's acknowledgement (with attempt counts and next-attempt times); `sync_state` is one row:
 * enrollment (device id, server, key thumbprint; the access token is in the OS keychain), the
 * copy pointer into `events`, the acknowledged cursor, retry state, the last inventory and policy.
 */
import type { Migration } from './index.ts';

export const migration0003: Migration = {
  version: 3,
  name: 'sync-outbox',
  up(db) {
    db.exec(`
      CREATE TABLE sync_outbox (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        severity INTEGER NOT NULL,
        body TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX sync_outbox_drop ON sync_outbox (severity, seq);
      CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        server_url TEXT,
        device_id TEXT,
        key_thumbprint TEXT,
        enrolled_at TEXT,
        copied_through INTEGER NOT NULL DEFAULT 0,
        acked_cursor INTEGER NOT NULL DEFAULT 0,
        dropped_total INTEGER NOT NULL DEFAULT 0,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        last_success_at TEXT,
        last_error TEXT,
        revoked_at TEXT,
        inventory_hash TEXT,
        inventory_sent TEXT,
        inventory_sent_at TEXT,
        device_state TEXT,
        policy_etag TEXT,
        policy_version INTEGER,
        policy_text TEXT,
        policy_sha256 TEXT,
        policy_applied_version INTEGER,
        clock_offset_ms INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO sync_state (id) VALUES (1);
    `);
  },
};
