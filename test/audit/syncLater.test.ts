import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { auditChain } from '../../app/audit/chain.ts';
import { headFileFor, readAuditHead } from '../../app/audit/headFile.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import { openDatabase } from '../../app/store/database.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { decisionInput, tempDb } from './fixtures.ts';

/** The seq the head file names (null: none or damaged). */
function headSeq(file: string): number | null {
  const head = readAuditHead(file);
  return head === null || head === 'unreadable' ? null : head.seq;
}

/** The newest seq another connection sees: what is committed, whoever wrote it. */
function committedSeq(file: string): number | null {
  const reader = new Database(file, { readonly: true });
  try {
    return (reader.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? null;
  } finally {
    reader.close();
  }
}

test('appendSyncLater: committed when it returns, the head file moves only after the fsync', async () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    const headFile = headFileFor(t.file)!;
    const first = log.append('daemon.started', 'started', {});
    assert.equal(headSeq(headFile), first.seq);

    const allowed = log.appendSyncLater('local.allow', 'allow command ls', { action: 'ls' });
    assert.equal(allowed.seq, first.seq + 1);
    assert.equal(committedSeq(t.file), allowed.seq, 'another connection sees the row before any fsync');
    assert.equal(chain.unsynced(), true);
    assert.equal(headSeq(headFile), first.seq, 'the head file waits for the fsync');

    await chain.sync();
    assert.equal(chain.unsynced(), false);
    assert.deepEqual(readAuditHead(headFile), { seq: allowed.seq, hash: chain.head()?.hash });
    const result = verifyAudit(t.db, { headFile });
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.headFile, 'matched');
  } finally {
    t.cleanup();
  }
});

test('rows written while an fsync runs share the next one; every sync() resolves once its rows are on disk', async () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      log.appendSyncLater('local.allow', `allow ${i}`, { i });
      waits.push(chain.sync());
      if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(waits);
    assert.equal(chain.unsynced(), false);
    assert.equal(headSeq(headFileFor(t.file)!), 20);
    assert.equal(verifyAudit(t.db, { headFile: headFileFor(t.file) }).ok, true);
  } finally {
    t.cleanup();
  }
});

test('a durable append after appendSyncLater covers it: nothing left to sync, head file at the newest row', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const store = createEventStore(t.db);
    const chain = auditChain(t.db);
    log.appendSyncLater('local.allow', 'allow 1', {});
    log.appendSyncLater('local.allow', 'allow 2', {});
    assert.equal(chain.unsynced(), true);
    const denied = log.appendDecision(decisionInput({ action: 'deny' }));
    assert.equal(chain.unsynced(), false);
    assert.equal(headSeq(headFileFor(t.file)!), denied.seq);
    log.appendSyncLater('local.allow', 'allow 3', {});
    const changed = store.append('settings.changed', 'mode', {});
    assert.equal(chain.unsynced(), false, 'an event store write fsyncs the log too');
    assert.equal(headSeq(headFileFor(t.file)!), changed.seq);
  } finally {
    t.cleanup();
  }
});

test('a transaction that writes nothing fsyncs nothing: the rows still wait, the head file stays', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    t.db.exec('CREATE TABLE scratch (x INTEGER)');
    const first = log.append('daemon.started', 'started', {});
    log.appendSyncLater('local.allow', 'allow', {});
    chain.transaction(() => t.db.prepare('SELECT COUNT(*) FROM events').pluck().get());
    assert.equal(chain.unsynced(), true);
    assert.equal(headSeq(headFileFor(t.file)!), first.seq);
    // One that writes anything (here a row of another table) commits with an fsync.
    chain.transaction(() => t.db.prepare('INSERT INTO scratch (x) VALUES (1)').run());
    assert.equal(chain.unsynced(), false);
    assert.equal(headSeq(headFileFor(t.file)!), first.seq + 1);
  } finally {
    t.cleanup();
  }
});

test('flush() fsyncs at once (shutdown); a later background fsync never moves the head file back', async () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    const event = log.appendSyncLater('local.allow', 'allow', {});
    log.flush();
    assert.equal(chain.unsynced(), false);
    assert.equal(headSeq(headFileFor(t.file)!), event.seq);
    const later = log.append('daemon.stopped', 'stop', {});
    await chain.sync();
    assert.equal(headSeq(headFileFor(t.file)!), later.seq);
  } finally {
    t.cleanup();
  }
});

test('without a WAL file to fsync (in memory), or inside a transaction, appendSyncLater is a durable append', () => {
  const memory = openDatabase(':memory:');
  try {
    const log = createAuditLog(memory);
    const event = log.appendSyncLater('local.allow', 'allow', {});
    assert.equal(event.seq, 1);
    assert.equal(auditChain(memory).unsynced(), false);
  } finally {
    memory.close();
  }
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    chain.transaction(() => log.appendSyncLater('local.allow', 'inside', {}));
    assert.equal(chain.unsynced(), false);
    assert.equal(headSeq(headFileFor(t.file)!), 1);
    // The connection's synchronous level is back to FULL after every appendSyncLater.
    log.appendSyncLater('local.allow', 'outside', {});
    assert.equal(t.db.pragma('synchronous', { simple: true }), 2);
  } finally {
    t.cleanup();
  }
});

test('a write error throws from appendSyncLater (the caller fails closed) and leaves nothing to sync', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    t.db.exec("CREATE TRIGGER full_disk BEFORE INSERT ON events WHEN NEW.type = 'local.allow' BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    assert.throws(() => log.appendSyncLater('local.allow', 'allow', {}), /disk full/);
    assert.equal(chain.unsynced(), false);
    assert.equal(t.db.pragma('synchronous', { simple: true }), 2);
    assert.equal(log.append('daemon.stopped', 'stop', {}).seq, 1, 'the chain continues without a gap');
  } finally {
    t.cleanup();
  }
});

test('a connection closed with rows waiting: sync() resolves (closing checkpointed them) and the trail verifies', async () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const chain = auditChain(t.db);
    log.appendSyncLater('local.allow', 'allow', {});
    t.db.close();
    await chain.sync();
    assert.equal(chain.unsynced(), false);
    const db = openDatabase(t.file);
    try {
      assert.equal(committedSeq(t.file), 1);
      assert.equal(verifyAudit(db, { headFile: headFileFor(t.file) }).ok, true);
    } finally {
      db.close();
    }
  } finally {
    t.cleanup();
  }
});
