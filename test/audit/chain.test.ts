import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { AUDIT_COLUMNS, hashAuditRow } from '../../app/audit/hash.ts';
import { headFileFor, readAuditHead } from '../../app/audit/headFile.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { openDatabase } from '../../app/store/database.ts';
import { inventoryOf, server } from '../discovery/inventoryFixtures.ts';
import { decisionInput, tempDb, type TempDb } from './fixtures.ts';

/** A trail of 8 events from both writers: decisions, inventory changes, daemon events. */
function populated(): TempDb & { log: ReturnType<typeof createAuditLog> } {
  const t = tempDb();
  const log = createAuditLog(t.db);
  const store = createEventStore(t.db);
  store.append('daemon.started', 'started', { pid: 1 });
  log.appendDecision(decisionInput({ action: 'allow' }));
  store.recordScan(inventoryOf([], [server('a')]), [{ type: 'server.added', id: 'mcp_a', summary: 'a added' }]);
  log.appendBatch([decisionInput({ action: 'deny' }), decisionInput({ action: 'ask', agent: 'codex' })]);
  log.append('settings.changed', 'mode changed', { keys: ['mode'] });
  log.appendDecision(decisionInput({ action: 'log', request: { kind: 'connect', host: 'paste.example', port: 443 } }));
  store.append('daemon.stopped', 'stopped', { pid: 1 });
  return { ...t, log };
}

function verifyFile(t: TempDb) {
  return verifyAudit(t.db, { headFile: headFileFor(t.file) });
}

test('events from the event store and the audit log form one chain that verifies', () => {
  const t = populated();
  try {
    const result = verifyFile(t);
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.checked, 8);
    assert.equal(result.firstSeq, 1);
    assert.equal(result.lastSeq, 8);
    assert.equal(result.headFile, 'matched');
    const rows = t.db.prepare('SELECT seq, prev_hash, hash FROM events ORDER BY seq').all() as { seq: number; prev_hash: string; hash: string }[];
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    assert.deepEqual(readAuditHead(headFileFor(t.file)!), { seq: 8, hash: rows.at(-1)!.hash });
    assert.equal(result.headHash, rows.at(-1)!.hash);
  } finally {
    t.cleanup();
  }
});

test('editing any field of any event is found at that event', () => {
  const t = populated();
  try {
    const editable = AUDIT_COLUMNS.filter((c) => c !== 'seq');
    for (const seq of [1, 2, 4, 8]) {
      for (const column of editable) {
        const before = t.db.prepare(`SELECT ${column} AS v FROM events WHERE seq = ?`).get(seq) as { v: unknown };
        const changed = column === 'port' || column === 'bytes_up' || column === 'bytes_down' ? 9999 : `${String(before.v ?? '')}x`;
        t.db.prepare(`UPDATE events SET ${column} = ? WHERE seq = ?`).run(changed, seq);
        const result = verifyFile(t);
        assert.equal(result.ok, false, `edit of ${column} at ${seq} went unnoticed`);
        const first = result.problems[0]!;
        // prev_hash edits show at the event itself; a hash edit shows there and at the next link.
        assert.equal(first.seq, seq, `${column}@${seq}: ${JSON.stringify(result.problems)}`);
        assert.equal(first.kind, 'edited');
        t.db.prepare(`UPDATE events SET ${column} = ? WHERE seq = ?`).run(before.v, seq);
      }
    }
    assert.equal(verifyFile(t).ok, true);
  } finally {
    t.cleanup();
  }
});

test('an edit with a recomputed hash still breaks the link to the next event', () => {
  const t = populated();
  try {
    // The attacker rewrites event 3 consistently with itself; event 4 no longer follows it.
    const row = t.db.prepare('SELECT * FROM events WHERE seq = 3').get() as Record<string, unknown>;
    const forged = { ...row, summary: 'nothing happened' } as Parameters<typeof hashAuditRow>[0];
    t.db.prepare('UPDATE events SET summary = ?, hash = ? WHERE seq = 3').run(forged.summary, hashAuditRow(forged));
    const result = verifyFile(t);
    assert.equal(result.ok, false);
    assert.deepEqual([result.problems[0]!.seq, result.problems[0]!.kind], [4, 'broken-link']);
  } finally {
    t.cleanup();
  }
});

test('deleting a middle event, the first event, or inserting or reordering events is found', async (s) => {
  await s.test('middle', () => {
    const t = populated();
    try {
      t.db.prepare('DELETE FROM events WHERE seq = 5').run();
      const result = verifyFile(t);
      assert.deepEqual([result.problems[0]!.seq, result.problems[0]!.kind], [6, 'missing']);
      assert.match(result.problems[0]!.message, /event 5 is missing/);
    } finally {
      t.cleanup();
    }
  });
  await s.test('first', () => {
    const t = populated();
    try {
      t.db.prepare('DELETE FROM events WHERE seq <= 2').run();
      const result = verifyFile(t);
      assert.deepEqual([result.problems[0]!.seq, result.problems[0]!.kind], [3, 'missing-start']);
    } finally {
      t.cleanup();
    }
  });
  for (const at of [0, 100]) {
    await s.test(`insert at seq ${at}`, () => {
      const t = populated();
      try {
        const row = t.db.prepare('SELECT * FROM events WHERE seq = 4').get() as Record<string, unknown>;
        t.db.prepare(`INSERT INTO events (${AUDIT_COLUMNS.join(',')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(',')})`)
          .run(AUDIT_COLUMNS.map((c) => (c === 'seq' ? at : c === 'id' ? 'forged' : row[c])));
        const result = verifyFile(t);
        assert.equal(result.ok, false);
        assert.equal(result.problems[0]!.seq, at);
      } finally {
        t.cleanup();
      }
    });
  }
  await s.test('reorder', () => {
    const t = populated();
    try {
      t.db.transaction(() => {
        t.db.prepare('UPDATE events SET seq = -1 WHERE seq = 3').run();
        t.db.prepare('UPDATE events SET seq = 3 WHERE seq = 4').run();
        t.db.prepare('UPDATE events SET seq = 4 WHERE seq = -1').run();
      })();
      const result = verifyFile(t);
      assert.equal(result.ok, false);
      assert.equal(result.problems[0]!.seq, 3);
    } finally {
      t.cleanup();
    }
  });
});

test('deleting the newest events: the sequence counter, then the head file, show it', () => {
  const t = populated();
  try {
    t.db.prepare('DELETE FROM events WHERE seq = 8').run();
    let result = verifyFile(t);
    assert.deepEqual([result.problems[0]!.seq, result.problems[0]!.kind], [8, 'truncated']);
    assert.match(result.problems[0]!.message, /sequence counter is at 8/);
    // An attacker who also resets SQLite's counter is still caught by the head file...
    t.db.prepare("UPDATE sqlite_sequence SET seq = 7 WHERE name = 'events'").run();
    result = verifyFile(t);
    assert.equal(result.ok, false);
    assert.equal(result.headFile, 'mismatch');
    assert.match(result.problems[0]!.message, /head file names event 8/);
    // ...and one who rewrites the head file too is not: a pure chain cannot see this (documented;
    // the fleet's copy of the head closes it).
    const head = t.db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    writeFileSync(headFileFor(t.file)!, JSON.stringify({ v: 1, ...head }));
    assert.equal(verifyFile(t).ok, true);
  } finally {
    t.cleanup();
  }
});

test('a damaged head file is reported; a missing one is not an error', () => {
  const t = populated();
  try {
    const file = headFileFor(t.file)!;
    writeFileSync(file, 'garbage');
    assert.equal(verifyFile(t).headFile, 'unreadable');
    assert.equal(verifyFile(t).ok, false);
    assert.equal(verifyAudit(t.db, { headFile: `${file}-absent` }).headFile, 'absent');
    assert.equal(verifyAudit(t.db, { headFile: `${file}-absent` }).ok, true);
  } finally {
    t.cleanup();
  }
});

test('after a restart the chain continues from the last row, and another writer does not fork it', () => {
  const t = populated();
  try {
    t.db.close();
    const db = openDatabase(t.file);
    const log = createAuditLog(db);
    const other = new Database(t.file);
    other.pragma('busy_timeout = 5000');
    const otherLog = createAuditLog(other);
    log.appendDecision(decisionInput());
    otherLog.append('settings.changed', 'from another connection', {});
    log.appendDecision(decisionInput({ action: 'deny' }));
    otherLog.appendBatch([decisionInput(), decisionInput()]);
    log.append('daemon.stopped', 'stop', {});
    other.close();
    const result = verifyAudit(db, { headFile: headFileFor(t.file) });
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.lastSeq, 14);
    assert.equal(readFileSync(headFileFor(t.file)!, 'utf8').length, 128);
    db.close();
  } finally {
    t.cleanup();
  }
});

test('a rolled-back transaction leaves no trace in the chain', () => {
  const t = populated();
  try {
    const store = createEventStore(t.db);
    t.db.exec("CREATE TRIGGER no_servers BEFORE INSERT ON events WHEN NEW.type = 'server.added' BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    assert.throws(() => store.recordScan(inventoryOf([], [server('b')]), [
      { type: 'server.removed', id: 'mcp_a', summary: 'a removed' },
      { type: 'server.added', id: 'mcp_b', summary: 'b added' },
    ]));
    t.db.exec('DROP TRIGGER no_servers');
    t.log.appendDecision(decisionInput());
    const result = verifyFile(t);
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.lastSeq, 9);
  } finally {
    t.cleanup();
  }
});

test('odd text (NUL, lone surrogates, control characters) is stored so that it still verifies', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    log.append('settings.changed', 'a\u0000b\ud800c\u001b[2J', { text: '\udfff' });
    log.appendDecision(decisionInput({ request: { path: '/x\ud800y', host: 'h\u0000st' } }));
    const result = verifyAudit(t.db);
    assert.equal(result.ok, true, JSON.stringify(result.problems));
  } finally {
    t.cleanup();
  }
});
