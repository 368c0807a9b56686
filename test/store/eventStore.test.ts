import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, schemaVersion } from '../../app/store/database.ts';
import { MIGRATIONS } from '../../app/store/migrations/index.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { CoreError } from '../../app/api/errors.ts';
import { inventoryOf, server } from '../discovery/inventoryFixtures.ts';

function tempDb(): { file: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-store-'));
  return { file: join(dir, 'cordon.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a new database is migrated to the latest schema version, in WAL mode', () => {
  const { file, cleanup } = tempDb();
  try {
    const db = openDatabase(file);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    // Reopening runs nothing twice.
    const again = openDatabase(file);
    assert.equal(schemaVersion(again), MIGRATIONS.at(-1)?.version);
    again.close();
  } finally {
    cleanup();
  }
});

test('a database from a newer Cordon is refused with ERR_STORE, not damaged', () => {
  const { file, cleanup } = tempDb();
  try {
    const raw = new Database(file);
    raw.pragma('user_version = 999');
    raw.close();
    assert.throws(() => openDatabase(file), (e: unknown) => e instanceof CoreError && e.code === 'ERR_STORE' && /newer/.test(e.message));
  } finally {
    cleanup();
  }
});

test('a migration that fails leaves the schema version where it was', () => {
  const { file, cleanup } = tempDb();
  try {
    const broken = [...MIGRATIONS, { version: 99, name: 'broken', up: (db: Database.Database) => { db.exec('CREATE TABLE x (a)'); db.exec('THIS IS NOT SQL'); } }];
    assert.throws(() => openDatabase(file, broken), CoreError);
    const db = openDatabase(file);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'x'").get(), { n: 0 });
    db.close();
  } finally {
    cleanup();
  }
});

test('recordScan saves the inventory and its change events together; query filters and pages', () => {
  const { file, cleanup } = tempDb();
  try {
    const db = openDatabase(file);
    const store = createEventStore(db);
    assert.equal(store.latestInventory(), null);
    const inv = inventoryOf([], [server('a'), server('b')]);
    const events = store.recordScan(inv, [
      { type: 'server.added', id: 'mcp_a', summary: 'a added' },
      { type: 'server.added', id: 'mcp_b', summary: 'b added' },
    ]);
    store.append('daemon.started', 'started', { pid: 1 });
    assert.equal(events.length, 2);
    assert.deepEqual(store.latestInventory(), inv);
    assert.equal(store.count(), 3);
    assert.deepEqual(store.query({ types: ['server.added'] }).map((e) => e.subjectId), ['mcp_b', 'mcp_a']);
    assert.deepEqual(store.query({ afterSeq: events[0]!.seq }).map((e) => e.type), ['server.added', 'daemon.started']);
    assert.equal(store.query({ limit: 1 }).length, 1);
    assert.equal(store.query({ since: '2999-01-01T00:00:00.000Z' }).length, 0);
    db.close();
  } finally {
    cleanup();
  }
});

test('a failing write inside recordScan rolls back the inventory too', () => {
  const { file, cleanup } = tempDb();
  try {
    const db = openDatabase(file);
    const store = createEventStore(db);
    const first = inventoryOf([], [server('a')]);
    store.recordScan(first, []);
    db.exec("CREATE TRIGGER no_more BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    assert.throws(() => store.recordScan(inventoryOf([], [server('b')]), [{ type: 'server.added', id: 'mcp_b', summary: 'b' }]));
    assert.deepEqual(store.latestInventory(), first);
    db.close();
  } finally {
    cleanup();
  }
});
