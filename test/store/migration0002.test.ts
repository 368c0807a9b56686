import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { headFileFor } from '../../app/audit/headFile.ts';
import { GENESIS_HASH } from '../../app/audit/hash.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import { MIGRATIONS } from '../../app/store/migrations/index.ts';
import { openDatabase, schemaVersion } from '../../app/store/database.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { migration0001 } from '../../app/store/migrations/0001-inventory-events.ts';
import { decisionInput } from '../audit/fixtures.ts';

test('migration 0002 upgrades a populated version-1 database: rows kept, chained, verifiable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-mig-'));
  const file = join(dir, 'cordon.db');
  try {
    // A database as version 1 of Cordon left it: inventory and 1,200 events (more than one page
    // of the migration's 1,000-row chunks).
    const v1 = openDatabase(file, [migration0001]);
    assert.equal(schemaVersion(v1), 1);
    v1.prepare("INSERT INTO inventory_snapshot (id, scanned_at, body) VALUES (1, '2026-01-01T00:00:00.000Z', '{\"agents\":[]}')").run();
    const insert = v1.prepare('INSERT INTO events (id, time, type, subject_id, summary, data) VALUES (?, ?, ?, ?, ?, ?)');
    v1.transaction(() => {
      for (let i = 0; i < 1200; i++) {
        insert.run(randomUUID(), new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), i % 2 ? 'server.added' : 'daemon.started', i % 2 ? `mcp_${i}` : null, `event ${i}`, JSON.stringify({ i }));
      }
    })();
    const before = v1.prepare('SELECT seq, id, time, type, subject_id, summary, data FROM events ORDER BY seq').all();
    v1.close();

    const db = openDatabase(file);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
    assert.deepEqual(db.prepare('SELECT seq, id, time, type, subject_id, summary, data FROM events ORDER BY seq').all(), before);
    assert.equal(db.prepare('SELECT prev_hash FROM events WHERE seq = 1').pluck().get(), GENESIS_HASH);
    const result = verifyAudit(db, { headFile: headFileFor(file) });
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.checked, 1200);
    assert.equal(result.headFile, 'absent');

    // The event store still reads what version 1 wrote, and new events continue the chain.
    const store = createEventStore(db);
    assert.deepEqual(store.latestInventory(), { agents: [] });
    assert.equal(store.count(), 1200);
    assert.deepEqual(store.query({ limit: 1 })[0]?.data, { i: 1199 });
    store.append('daemon.started', 'upgraded', {});
    createAuditLog(db).appendDecision(decisionInput());
    const after = verifyAudit(db, { headFile: headFileFor(file) });
    assert.equal(after.ok, true, JSON.stringify(after.problems));
    assert.deepEqual([after.lastSeq, after.headFile], [1202, 'matched']);

    // Tampering with a migrated row is caught like any other.
    db.prepare("UPDATE events SET summary = 'rewritten' WHERE seq = 1042").run();
    assert.deepEqual(verifyAudit(db).problems[0]?.seq, 1042);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
