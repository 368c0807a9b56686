import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { headFileFor, readAuditHead } from '../../app/audit/headFile.ts';
import { CoreError } from '../../app/api/errors.ts';
import { decisionInput, tempDb } from './fixtures.ts';

test('query filters by time range, agent id or kind, decision and type; pages by cursor', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
    log.appendBatch([
      decisionInput({ action: 'allow', agent: 'claude-code', time: at(1) }),
      decisionInput({ action: 'deny', agent: 'claude-code', time: at(2) }),
      decisionInput({ action: 'deny', agent: 'codex', time: at(3) }),
      decisionInput({ action: 'ask', agent: null, time: at(4) }),
    ]);
    log.append('daemon.started', 'started', {});
    const seqs = (q: Parameters<typeof log.query>[0]) => log.query({ order: 'asc', ...q }).map((e) => e.seq);
    assert.deepEqual(seqs({}), [1, 2, 3, 4, 5]);
    assert.deepEqual(seqs({ decision: 'deny' }), [2, 3]);
    assert.deepEqual(seqs({ agent: 'claude-code' }), [1, 2]);
    assert.deepEqual(seqs({ agent: 'agent_codex' }), [3]);
    assert.deepEqual(seqs({ since: at(2).toISOString(), until: at(4).toISOString() }), [2, 3]);
    assert.deepEqual(seqs({ since: '2026-03-01T02:00:00+00:00' }).slice(0, 3), [2, 3, 4]);
    assert.deepEqual(seqs({ types: ['egress.ask', 'daemon.started'] }), [4, 5]);
    assert.deepEqual(seqs({ afterSeq: 3 }), [4, 5]);
    assert.deepEqual(log.query({ limit: 2 }).map((e) => e.seq), [5, 4]);
    const [deny] = log.query({ decision: 'deny', agent: 'codex' });
    assert.deepEqual(deny?.destination, { host: 'api.example.com', port: 443, method: 'POST', path: '/hooks/<redacted>/send?token=*&v=*' });
    assert.equal(deny?.rule, 'user:allow-example');
    assert.equal(deny?.bytesUp, 1200);
    for (const bad of [{ since: 'yesterday' }, { limit: 0 }, { decision: 'maybe' as never }, { afterSeq: 1.5 }]) {
      assert.throws(() => log.query(bad), (e: unknown) => e instanceof CoreError && e.code === 'ERR_BAD_REQUEST', JSON.stringify(bad));
    }
  } finally {
    t.cleanup();
  }
});

test('queued decisions get their id at once and commit together, before any other write or read', async () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const rows = (): number => t.db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    const queued = [log.enqueueDecision(decisionInput()), log.enqueueDecision(decisionInput({ action: 'deny' }))];
    assert.equal(rows(), 0, 'queued, not written yet');
    const events = await Promise.all(queued.map((q) => q.committed));
    assert.equal(rows(), 2, 'one group commit wrote both');
    assert.deepEqual(events.map((e) => e.id), queued.map((q) => q.id));
    assert.deepEqual(events.map((e) => e.seq), [1, 2]);
    // The events handed out (published to subscribers) are the events as stored.
    assert.deepEqual(events, log.query({ order: 'asc' }));
    assert.equal(log.verify().ok, true);
    // Committed at once, fsynced off the event loop: the head file, which moves only after an
    // fsync, names the batch once the background fsync is done.
    const headFile = headFileFor(t.file)!;
    for (let i = 0; i < 200 && (readAuditHead(headFile) as { seq?: number } | null)?.seq !== 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(readAuditHead(headFile), { seq: 2, hash: events[1]!.hash });
    // A failed batch rejects its promises and reports the loss; nothing crashes.
    const lost: number[] = [];
    const failing = createAuditLog(t.db, { onError: (_e, n) => lost.push(n) });
    t.db.exec("CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const doomed = failing.enqueueDecision(decisionInput());
    failing.enqueueDecision(decisionInput()); // not awaited: must not become an unhandled rejection
    await assert.rejects(doomed.committed, /disk full/);
    assert.deepEqual(lost, [2]);
    t.db.exec('DROP TRIGGER full');
    failing.appendDecision(decisionInput());
    assert.equal(log.verify().ok, true);
  } finally {
    t.cleanup();
  }
});

test('a deny or a query first commits the queued allows, so the trail keeps the order of decisions', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const allowed = log.enqueueDecision(decisionInput());
    const denied = log.appendDecision(decisionInput({ action: 'deny' }));
    assert.deepEqual(log.query({ order: 'asc' }).map((e) => e.id), [allowed.id, denied.id]);
    const later = log.enqueueDecision(decisionInput());
    assert.equal(log.query().at(0)?.id, later.id, 'a query sees every exchange that has ended');
    assert.equal(log.verify().ok, true);
  } finally {
    t.cleanup();
  }
});
