/**
 * 0002: the events table becomes the hash-chained audit trail. Adds the decision columns and
 * prev_hash/hash, then chains the rows written by version 1 in seq order from the genesis hash,
 * so `cordon audit verify` passes on an upgraded database.
 */
import { GENESIS_HASH, hashAuditRow, type AuditRow } from '../../audit/hash.ts';
import type { Migration } from './index.ts';

const CHUNK = 1000;

export const migration0002: Migration = {
  version: 2,
  name: 'audit-chain',
  up(db) {
    db.exec(`
      ALTER TABLE events ADD COLUMN agent_id TEXT;
      ALTER TABLE events ADD COLUMN agent_kind TEXT;
      ALTER TABLE events ADD COLUMN decision TEXT;
      ALTER TABLE events ADD COLUMN rule TEXT;
      ALTER TABLE events ADD COLUMN host TEXT;
      ALTER TABLE events ADD COLUMN port INTEGER;
      ALTER TABLE events ADD COLUMN method TEXT;
      ALTER TABLE events ADD COLUMN path TEXT;
      ALTER TABLE events ADD COLUMN bytes_up INTEGER;
      ALTER TABLE events ADD COLUMN bytes_down INTEGER;
      ALTER TABLE events ADD COLUMN key_thumbprint TEXT;
      ALTER TABLE events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
      ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
      CREATE INDEX events_agent_seq ON events (agent_id, seq);
      CREATE INDEX events_agent_kind_seq ON events (agent_kind, seq);
      CREATE INDEX events_decision_seq ON events (decision, seq);
    `);
    // Chain the version-1 rows. Their content predates the chain: from here on it cannot change
    // unnoticed, but what was written before the upgrade is taken as found.
    const page = db.prepare<[number, number], AuditRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
    let prevHash = GENESIS_HASH;
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = page.all(after, CHUNK);
      for (const row of rows) {
        const hash = hashAuditRow({ ...row, prev_hash: prevHash });
        update.run(prevHash, hash, row.seq);
        prevHash = hash;
        after = row.seq;
      }
      if (rows.length < CHUNK) break;
    }
  },
};
