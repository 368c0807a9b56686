/**
 * The outbox and its stated buffer policy: bounded, drops the oldest low-severity events first,
 * then normal ones, never decisions (backpressure instead), records every drop as an audit event,
 * and survives reopening the database. Plus migration 0003 on a populated database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import { openDatabase, schemaVersion } from '../../app/store/database.ts';
import { migration0001 } from '../../app/store/migrations/0001-inventory-events.ts';
import { migration0002 } from '../../app/store/migrations/0002-audit-chain.ts';
import { createOutbox, DROPPED_EVENT_TYPE, severityOf } from '../../app/sync/outbox.ts';
import { readSyncState } from '../../app/sync/state.ts';
import { decisionInput, tempDb } from '../audit/fixtures.ts';

test('severity: decisions and drop records are never dropped, daemon lifecycle is low, the rest normal', () => {
  assert.equal(severityOf({ decision: 'allow', type: 'egress.allow' }), 2);
  assert.equal(severityOf({ decision: null, type: 'daemon.started' }), 0);
  assert.equal(severityOf({ decision: null, type: 'server.changed' }), 1);
  assert.equal(severityOf({ decision: null, type: DROPPED_EVENT_TYPE }), 2);
});

test('a full outbox drops the oldest low events first, then normal ones, never decisions, and records it', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db, { headFile: null });
    const outbox = createOutbox(t.db, { maxRows: 50, maxBytes: 10_000_000 });
    for (let i = 0; i < 30; i++) log.append('daemon.started', `start ${i}`, { i });
    for (let i = 0; i < 30; i++) log.append('server.added', `server ${i}`, { i });
    log.appendBatch(Array.from({ length: 30 }, () => decisionInput({ action: 'deny' })));
    const result = outbox.fill(Date.now());
    assert.equal(result.backpressure, false);
    const rows = t.db.prepare<[], { severity: number; n: number }>('SELECT severity, count(*) AS n FROM sync_outbox GROUP BY severity').all();
    const by = Object.fromEntries(rows.map((r) => [r.severity, r.n]));
    assert.equal(by[2], 30, 'every decision kept');
    assert.equal(by[0] ?? 0, 0, 'low events went first');
    assert.ok((by[1] ?? 0) > 0 && (by[1] ?? 0) < 30, 'then the oldest normal events');
    const kept = t.db.prepare<[], { seq: number }>('SELECT seq FROM sync_outbox WHERE severity = 1 ORDER BY seq').all().map((r) => r.seq);
    const firstNormal = t.db.prepare<[], { seq: number }>("SELECT min(seq) AS seq FROM events WHERE type = 'server.added'").get()?.seq ?? 0;
    assert.ok((kept[0] ?? 0) > firstNormal, 'the oldest normal events were the ones dropped');
    const drops = log.query({ types: [DROPPED_EVENT_TYPE] });
    assert.ok(drops.length >= 1);
    const data = drops.map((d) => d.data as { count: number; bySeverity: Record<string, number>; policy: string });
    assert.equal(data.reduce((n, d) => n + (d.bySeverity.low ?? 0), 0), 30);
    assert.equal(data.reduce((n, d) => n + (d.bySeverity.decision ?? 0), 0), 0);
    assert.match(data[0]?.policy ?? '', /never decisions/);
    assert.equal(readSyncState(t.db).dropped_total, 30 + (30 - (by[1] ?? 0)));
    assert.equal(verifyAudit(t.db, {}).ok, true, 'the audit chain is intact');
  } finally {
    t.cleanup();
  }
});

test('only decisions left: copying stops (backpressure) and resumes after an acknowledgement, nothing lost', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db, { headFile: null });
    const outbox = createOutbox(t.db, { maxRows: 20, maxBytes: 10_000_000 });
    const written = log.appendBatch(Array.from({ length: 50 }, () => decisionInput()));
    const first = outbox.fill(Date.now());
    assert.equal(first.backpressure, true);
    assert.equal(outbox.stats().pending, 20);
    assert.equal(outbox.stats().backpressure, true);
    const seen = new Set<number>();
    for (let round = 0; round < 10 && seen.size < 50; round++) {
      const batch = outbox.nextBatch(8);
      if (!batch) {
        outbox.fill(Date.now());
        continue;
      }
      for (const e of batch.events) seen.add(e.seq);
      outbox.acknowledge(batch, batch.lastSeq);
      outbox.fill(Date.now());
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), written.map((e) => e.seq), 'every decision was sent, in order');
    assert.equal(log.query({ types: [DROPPED_EVENT_TYPE] }).length, 0);
  } finally {
    t.cleanup();
  }
});

test('batches are bounded, acknowledged batches leave, failures count attempts; state survives reopening', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db, { headFile: null });
    let outbox = createOutbox(t.db);
    log.appendBatch(Array.from({ length: 30 }, () => decisionInput()));
    outbox.fill(Date.now());
    const batch = outbox.nextBatch(10);
    assert.ok(batch);
    assert.equal(batch.events.length, 10);
    assert.equal(batch.after, 0);
    outbox.recordFailure(batch, Date.now() + 1000, 'boom');
    const attempts = t.db.prepare<[], { attempts: number }>('SELECT attempts FROM sync_outbox ORDER BY seq LIMIT 1').get();
    assert.equal(attempts?.attempts, 1);
    outbox.acknowledge(batch, batch.lastSeq);
    t.db.close();
    const db = openDatabase(t.file);
    outbox = createOutbox(db);
    assert.equal(outbox.stats().pending, 20);
    const next = outbox.nextBatch(5, 1);
    assert.equal(next?.events.length, 1, 'the byte bound still sends one event');
    assert.equal(next?.after, batch.lastSeq);
    db.close();
  } finally {
    t.cleanup();
  }
});

test('events pruned from the trail before they were copied are recorded as dropped', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db, { headFile: null });
    const outbox = createOutbox(t.db);
    log.append('settings.changed', 'one', {});
    outbox.fill(Date.now());
    log.appendBatch(Array.from({ length: 10 }, () => decisionInput()));
    log.prune({ maxRows: 3 });
    outbox.fill(Date.now());
    const drops = log.query({ types: [DROPPED_EVENT_TYPE] });
    assert.equal(drops.length, 1);
    assert.match(drops[0]?.summary ?? '', /pruned/);
  } finally {
    t.cleanup();
  }
});

test('migration 0003 upgrades a populated version-2 database: events kept, sync tables empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-mig3-'));
  const file = join(dir, 'cordon.db');
  try {
    const v2 = openDatabase(file, [migration0001, migration0002]);
    createAuditLog(v2, { headFile: null }).appendBatch(Array.from({ length: 25 }, () => decisionInput()));
    const before = v2.prepare('SELECT * FROM events ORDER BY seq').all();
    v2.close();
    const db = openDatabase(file);
    assert.equal(schemaVersion(db), 3);
    assert.deepEqual(db.prepare('SELECT * FROM events ORDER BY seq').all(), before);
    assert.equal(db.prepare('SELECT count(*) AS n FROM sync_outbox').pluck().get(), 0);
    const state = readSyncState(db);
    assert.equal(state.device_id, null);
    assert.equal(state.copied_through, 0);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
