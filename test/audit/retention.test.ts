import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { headFileFor } from '../../app/audit/headFile.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import type { AuditPrunedData } from '../../app/api/audit.ts';
import { CoreError } from '../../app/api/errors.ts';
import { decisionInput, tempDb } from './fixtures.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-06-30T12:00:00.000Z');

/** 20 decisions, one a day, ending yesterday. */
function daily() {
  const t = tempDb();
  const log = createAuditLog(t.db, { now: () => NOW });
  for (let i = 20; i >= 1; i--) log.appendDecision(decisionInput({ time: new Date(NOW.getTime() - i * DAY) }));
  return { ...t, log, verify: () => verifyAudit(t.db, { headFile: headFileFor(t.file) }) };
}

test('pruning by age removes the oldest events and leaves an anchor; verify stays green', () => {
  const t = daily();
  try {
    const result = t.log.prune({ maxAgeDays: 10 });
    assert.equal(result.removed, 10);
    assert.equal(result.throughSeq, 10);
    assert.equal(result.anchor?.type, 'audit.pruned');
    assert.equal(result.anchor?.seq, 21);
    const data = result.anchor?.data as AuditPrunedData;
    assert.equal(data.throughSeq, 10);
    assert.equal(data.removed, 10);
    const v = t.verify();
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.deepEqual(v.anchor, { seq: 21, throughSeq: 10 });
    assert.equal(v.firstSeq, 11);
    assert.equal(t.log.prune({ maxAgeDays: 10 }).removed, 0);
  } finally {
    t.cleanup();
  }
});

test('pruning by rows and by size, repeatedly, keeps the chain verifiable', () => {
  const t = daily();
  try {
    assert.equal(t.log.prune({ maxRows: 15 }).removed, 6); // 14 kept + the anchor
    assert.equal(t.db.prepare('SELECT count(*) AS n FROM events').pluck().get(), 15);
    t.log.appendDecision(decisionInput());
    const bySize = t.log.prune({ maxBytes: 5 * 2500 });
    assert.ok(bySize.removed > 0);
    const v = t.verify();
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.anchor?.seq, bySize.anchor?.seq);
  } finally {
    t.cleanup();
  }
});

test('pruning everything leaves only the anchor, and new events chain after it', () => {
  const t = daily();
  try {
    assert.equal(t.log.prune({ maxAgeDays: 0 }).removed, 20);
    assert.equal(t.db.prepare('SELECT count(*) AS n FROM events').pluck().get(), 1);
    t.log.appendDecision(decisionInput());
    const v = t.verify();
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.deepEqual([v.firstSeq, v.lastSeq], [21, 22]);
  } finally {
    t.cleanup();
  }
});

test('deleting events beyond the anchor is still found after a prune', () => {
  const t = daily();
  try {
    t.log.prune({ maxAgeDays: 10 });
    t.db.prepare('DELETE FROM events WHERE seq <= 12').run();
    const v = t.verify();
    assert.deepEqual([v.problems[0]?.seq, v.problems[0]?.kind], [13, 'missing-start']);
  } finally {
    t.cleanup();
  }
});

test('an anchor that is not correctly chained does not excuse a deletion', () => {
  const t = daily();
  try {
    t.db.prepare('DELETE FROM events WHERE seq <= 5').run();
    const head = t.db.prepare('SELECT hash FROM events WHERE seq = 6').pluck().get() as string;
    const prev = t.db.prepare('SELECT prev_hash FROM events WHERE seq = 6').pluck().get() as string;
    // A row claiming to anchor the deletion, appended without the chain's hash.
    t.db.prepare("INSERT INTO events (id, time, type, summary, data, prev_hash, hash) VALUES ('x', ?, 'audit.pruned', 'x', ?, ?, ?)")
      .run(NOW.toISOString(), JSON.stringify({ throughSeq: 5, throughHash: prev, removed: 5, reason: 'x' }), head, 'f'.repeat(64));
    const v = t.verify();
    assert.equal(v.ok, false);
    assert.equal(v.problems.some((p) => p.seq === 21 && p.kind === 'edited'), true);
  } finally {
    t.cleanup();
  }
});

test('bad retention values are refused with ERR_BAD_REQUEST', () => {
  const t = daily();
  try {
    for (const policy of [{ maxAgeDays: -1 }, { maxRows: 0 }, { maxRows: 1.5 }, { maxBytes: Number.NaN }]) {
      assert.throws(() => t.log.prune(policy), (e: unknown) => e instanceof CoreError && e.code === 'ERR_BAD_REQUEST', JSON.stringify(policy));
    }
    assert.equal(t.verify().ok, true);
  } finally {
    t.cleanup();
  }
});
