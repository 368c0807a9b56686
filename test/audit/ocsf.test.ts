import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { OCSF_SCHEMA_VERSION, toOcsf, type OcsfEvent } from '../../app/audit/ocsf.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { inventoryOf, server } from '../discovery/inventoryFixtures.ts';
import { decisionInput, secretsIn, tempDb } from './fixtures.ts';

const CTX = { productVersion: '0.1.0', hostname: 'dev-laptop' };

function assertBase(e: OcsfEvent, classUid: number, categoryUid: number): void {
  for (const field of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id', 'metadata'] as const) {
    assert.notEqual(e[field], undefined, `missing ${field}`);
  }
  assert.equal(e.class_uid, classUid);
  assert.equal(e.category_uid, categoryUid);
  assert.equal(e.type_uid, e.class_uid * 100 + e.activity_id);
  assert.equal(typeof e.time, 'number');
  assert.ok(e.time > 1_600_000_000_000, 'time is ms since epoch');
  assert.deepEqual(e.metadata.product, { name: 'Cordon', vendor_name: 'Cordon', version: '0.1.0' });
  assert.equal(e.metadata.version, OCSF_SCHEMA_VERSION);
  assert.equal(e.metadata.version, '1.8.0');
  const cordon = (e.unmapped as { cordon: { hash: string } }).cordon;
  assert.match(cordon.hash, /^[0-9a-f]{64}$/);
}

test('each event kind maps to its OCSF class with the required fields, and no secret values', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    const store = createEventStore(t.db);
    const events = [
      log.appendDecision(decisionInput({ action: 'allow', request: { kind: 'connect', host: 'api.example.com', port: 443, method: undefined, path: undefined } })),
      log.appendDecision(decisionInput({ action: 'deny', request: { kind: 'connect', host: '203.0.113.9', port: 8443, method: undefined, path: undefined } })),
      log.appendDecision(decisionInput({ action: 'deny' })),
      log.appendDecision(decisionInput({ action: 'ask', request: { kind: 'http', method: 'GET' } })),
      log.appendDecision(decisionInput({ action: 'log', request: { method: 'PROPFIND' } })),
      ...store.recordScan(inventoryOf([], [server('a')]), [{ type: 'server.added', id: 'mcp_a', summary: 'a added' }]),
      store.append('daemon.started', 'started', { pid: 1 }),
      store.append('daemon.stopped', 'stopped', { pid: 1 }),
    ];
    const all = log.query({ order: 'asc' });
    assert.equal(all.length, events.length);
    const ocsf = all.map((e) => toOcsf(e, CTX));
    const [open, refuse, post, get, other, inventory, started, stopped] = ocsf as [OcsfEvent, OcsfEvent, OcsfEvent, OcsfEvent, OcsfEvent, OcsfEvent, OcsfEvent, OcsfEvent];

    assertBase(open, 4001, 4);
    assert.equal(open.activity_id, 1);
    assert.deepEqual(open.dst_endpoint, { hostname: 'api.example.com', port: 443 });
    assert.equal(open.action_id, 1);
    assertBase(refuse, 4001, 4);
    assert.equal(refuse.activity_id, 5);
    assert.equal(refuse.type_uid, 400105);
    assert.deepEqual(refuse.dst_endpoint, { ip: '203.0.113.9', port: 8443 });
    assert.deepEqual([refuse.action_id, refuse.disposition_id], [2, 2]);

    assertBase(post, 4002, 4);
    assert.equal(post.activity_id, 6);
    assert.equal(post.type_uid, 400206);
    assert.equal(post.http_status, 403);
    const request = post.http_request as { http_method: string; url: { path: string; scheme: string } };
    assert.equal(request.http_method, 'POST');
    assert.equal(request.url.scheme, 'https');
    assert.equal(request.url.path, '/hooks/<redacted>/send?token=*&v=*');
    const actor = post.actor as { process: { pid: number; parent_process: { pid: number; parent_process: { pid: number } } } };
    assert.deepEqual([actor.process.pid, actor.process.parent_process.pid, actor.process.parent_process.parent_process.pid], [4242, 4241, 4000]);
    assert.deepEqual(post.traffic, { bytes_out: 1200, bytes_in: 34000, bytes: 35200 });
    const cordon = (post.unmapped as { cordon: Record<string, unknown> }).cordon;
    assert.equal(cordon.rule, 'user:allow-example');
    assert.equal((cordon.agent as { kind: string }).kind, 'claude-code');
    assert.equal(cordon.key_thumbprint, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');

    assertBase(get, 4002, 4);
    assert.equal(get.activity_id, 3);
    assert.equal(get.disposition_id, 14);
    assertBase(other, 4002, 4);
    assert.equal(other.activity_id, 99);

    assertBase(inventory, 5019, 5);
    assert.equal(inventory.type_uid, 501901);
    assert.equal((inventory.device as { type_id: number }).type_id, 0);
    assertBase(started, 6002, 6);
    assert.equal(started.activity_id, 3);
    assert.deepEqual((started.app as { name: string }).name, 'Cordon daemon');
    assertBase(stopped, 6002, 6);
    assert.equal(stopped.type_uid, 600204);

    const text = ocsf.map((e) => JSON.stringify(e)).join('\n');
    assert.deepEqual(secretsIn(text), []);
    assert.doesNotMatch(text, /"headers"|Bearer/, 'headers are never exported');
    // The stored rows themselves hold no secret either.
    assert.deepEqual(secretsIn(JSON.stringify(t.db.prepare('SELECT * FROM events').all())), []);
  } finally {
    t.cleanup();
  }
});

test('unknown event types and malformed data still produce a valid base event', () => {
  const t = tempDb();
  try {
    const log = createAuditLog(t.db);
    log.append('audit.pruned', 'pruned', { throughSeq: 1 });
    t.db.exec("UPDATE events SET data = 'not json', decision = 'deny'");
    const [event] = log.query();
    const ocsf = toOcsf(event!, CTX);
    assertBase(ocsf, 0, 0);
    assert.equal(ocsf.activity_id, 99);
  } finally {
    t.cleanup();
  }
});
