/**
 * POST /v1/events: real audit events (hash-chained by app/audit) are stored once per id, the
 * cursor is acknowledged, tampered events are flagged, and every malformed batch is refused whole
 * with problems by index (422), or 400/413/415 for a bad body, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SyncEvent } from '../../app/api/sync.ts';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { decisionInput, tempDb, type TempDb } from '../audit/fixtures.ts';
import { adminGet, backendMatrix, enrollTestDevice, type TestDevice, type TestServer, startTestServer } from './helpers.ts';

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`event batches (${backend})`, { skip }, () => {
    let server: TestServer;
    let device: TestDevice;
    let local: TempDb;
    let events: SyncEvent[];
    const post = async (body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const r = await device.call('POST', '/v1/events', body);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };

    test('setup: a device and 60 chained audit events', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
      device = await enrollTestDevice(server);
      local = tempDb();
      const log = createAuditLog(local.db, { headFile: null });
      log.append('daemon.started', 'daemon started', { pid: 1 });
      log.appendBatch(Array.from({ length: 59 }, (_, i) => decisionInput({ action: i % 4 === 0 ? 'deny' : 'allow' })));
      events = log.query({ order: 'asc', limit: 100 });
      assert.equal(events.length, 60);
    });

    test('a batch is stored, the cursor acknowledged, and a retried batch never duplicates', async () => {
      const first = await post({ after: 0, events: events.slice(0, 40) });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, { cursor: 40, stored: 40, duplicates: 0, headSeq: 40, headHash: events[39]?.hash });
      const retry = await post({ after: 0, events: events.slice(0, 40) });
      assert.deepEqual(retry.body, { cursor: 40, stored: 0, duplicates: 40, headSeq: 40, headHash: events[39]?.hash });
      const overlap = await post({ after: 0, events: events.slice(30, 60) });
      assert.deepEqual({ cursor: overlap.body.cursor, stored: overlap.body.stored, duplicates: overlap.body.duplicates }, { cursor: 60, stored: 20, duplicates: 10 });
      const empty = await post({ after: 60, events: [] });
      assert.equal(empty.body.cursor, 60);
      const count = await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
      assert.equal(count?.n, 60);
      const d = (await adminGet(server, `/admin/v1/devices/${device.deviceId}`)).body?.device as Record<string, unknown>;
      assert.equal(d.chainProblems, 0);
      assert.equal(d.cursor, 60);
    });

    test('a tampered event is stored but flagged (hash or chain does not verify)', async () => {
      const log = createAuditLog(local.db, { headFile: null });
      const more = log.appendBatch([decisionInput(), decisionInput()]);
      const [a, b] = more.map((e) => ({ ...e })) as [SyncEvent, SyncEvent];
      const edited = { ...a, summary: `${a.summary} (edited)` };
      const r = await post({ after: 60, events: [edited, b] });
      assert.equal(r.status, 200);
      const d = (await adminGet(server, `/admin/v1/devices/${device.deviceId}`)).body?.device as Record<string, unknown>;
      assert.equal(d.chainProblems, 1);
    });

    test('a device that claims an acknowledged cursor the server does not have leaves a visible gap', async () => {
      const log = createAuditLog(local.db, { headFile: null });
      const [later] = log.appendBatch([decisionInput()]);
      const r = await post({ after: 100, events: [{ ...later, seq: 101 } as SyncEvent].map((e) => e) });
      assert.equal(r.status, 200);
      const detail = await adminGet(server, `/admin/v1/devices/${device.deviceId}`);
      assert.deepEqual((detail.body?.gaps as { fromSeq: number; toSeq: number }[]).map((g) => [g.fromSeq, g.toSeq]), [[63, 100]]);
    });

    test('malformed batches are refused whole, with every problem by index', async () => {
      const good = events[0] as SyncEvent;
      const cases: [string, unknown, RegExp][] = [
        ['not an object', [1, 2], /JSON object/],
        ['after missing', { events: [] }, /after/],
        ['negative after', { after: -1, events: [] }, /after/],
        ['events not a list', { after: 0, events: {} }, /events/],
        ['unknown top-level field', { after: 0, events: [], extra: 1 }, /extra/],
        ['too many events', { after: 0, events: Array.from({ length: 1001 }, () => good) }, /more than 1000/],
        ['seq not increasing', { after: 0, events: [events[1], events[0]] }, /seq/],
        ['seq not after the cursor', { after: 5, events: [events[2]] }, /greater than after/],
        ['duplicate id', { after: 0, events: [good, { ...events[1], id: good.id }] }, /twice/],
        ['unknown event field', { after: 0, events: [{ ...good, smuggled: true }] }, /smuggled/],
        ['wrong types', { after: 0, events: [{ ...good, seq: '1', time: 5, decision: 'maybe', bytesUp: -1, hash: 'zz' }] }, /seq|time|decision|bytesUp|hash/],
        ['bad time', { after: 0, events: [{ ...good, time: 'yesterday' }] }, /time/],
        ['oversized data', { after: 0, events: [{ ...good, data: 'x'.repeat(300_000) }] }, /data/],
        ['missing data', { after: 0, events: [Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'data'))] }, /data/],
        ['bad destination', { after: 0, events: [{ ...good, destination: { host: 1, port: 70000, method: null, path: null } }] }, /destination/],
      ];
      const before = await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
      for (const [name, body, pattern] of cases) {
        const r = await post(body);
        assert.ok(r.status === 422 || r.status === 400, `${name}: ${r.status}`);
        assert.ok(r.body.error === 'invalid_batch' || r.body.error === 'invalid_request', name);
        const text = JSON.stringify(r.body.problems ?? r.body.message);
        assert.match(text, pattern, `${name}: ${text}`);
      }
      const wrong = await post({ after: 0, events: [{ ...good, seq: '1', time: 5 }] });
      const problems = wrong.body.problems as { index: number; field: string }[];
      assert.deepEqual(problems.map((p) => [p.index, p.field]), [[0, 'events[0].seq'], [0, 'events[0].time']]);
      const after = await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
      assert.equal(after?.n, before?.n, 'nothing was stored');
    });

    test('teardown', async () => {
      local.cleanup();
      await server.close();
    });
  });
}
