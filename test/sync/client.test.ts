/**
 * The sync client against a real fleet server (SQLite) with the real keychain: enrollment, event
 * upload with hash chain verification, idempotent retries after a lost acknowledgement, inventory
 * snapshots and deltas, policy with ETags, poison events, revocation and re-keying.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSyncState } from '../../app/sync/state.ts';
import type { FetchLike } from '../../app/identity/dpop/nonceRetry.ts';
import { enrollDevice } from '../../app/sync/enroll.ts';
import { auditChain } from '../../app/audit/chain.ts';
import { eventRowInput } from '../../app/audit/hash.ts';
import { decisionInput, SECRETS } from '../audit/fixtures.ts';
import { agent, inventoryOf, server as mcp } from '../discovery/inventoryFixtures.ts';
import { KEYRING_SKIP } from '../identity/helpers.ts';
import { adminGet, adminSend, freshLocation, startTestServer, type TestServer } from '../server/helpers.ts';
import { syncHarness, type Harness } from './helpers.ts';

describe('sync client', { skip: KEYRING_SKIP }, () => {
  let server: TestServer;
  let h: Harness;

  before(async () => {
    const { location, cleanup } = await freshLocation('sqlite');
    server = await startTestServer(location, { cleanup });
    h = await syncHarness(server.url);
  });
  after(async () => {
    await h?.cleanup();
    await server?.close();
  });

  const serverCount = async (): Promise<number> => (await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events'))?.n ?? 0;

  test('without an enroll secret the client waits, then enrolls from settings (managed secret)', async () => {
    assert.equal((await h.client.syncNow()).phase, 'not-enrolled');
    h.settings.enrollSecret = server.enrollSecret;
    const result = await h.client.syncNow();
    assert.equal(result.ok, true, result.error);
    const state = readSyncState(h.db);
    assert.match(state.device_id ?? '', /^dev_/);
    assert.equal(h.client.status().phase, 'idle');
    assert.ok(await h.keyStore.get('fleet:access-token'), 'the token is in the keychain');
    assert.ok(!JSON.stringify(state).includes('cdt_'), 'the token is not in the database');
    assert.deepEqual(h.policies, [null], 'no fleet policy yet: the fleet layer is cleared');
  });

  test('audit events arrive with verified hashes; the cursor is acknowledged; secrets stay redacted', async () => {
    h.audit.appendBatch(Array.from({ length: 120 }, (_, i) => decisionInput({ action: i % 3 === 0 ? 'deny' : 'allow' })));
    h.audit.append('settings.changed', 'settings changed', { keys: ['mode'] });
    const result = await h.client.syncNow();
    assert.equal(result.ok, true, result.error);
    const local = h.db.prepare<[], { n: number; max: number }>('SELECT count(*) AS n, max(seq) AS max FROM events').get();
    assert.equal(await serverCount(), local?.n);
    const devices = await adminGet(server, '/admin/v1/devices');
    const device = (devices.body?.items as Record<string, unknown>[])[0];
    assert.equal(device?.cursor, local?.max);
    assert.equal(device?.chainProblems, 0, 'every hash verified and chained');
    assert.equal(device?.headHash, h.audit.head()?.hash);
    assert.equal(h.client.status().outbox.pending, 0);
    const dump = JSON.stringify(await server.store.driver.all('SELECT * FROM events'));
    for (const secret of Object.values(SECRETS)) assert.ok(!dump.includes(secret), 'no secret reaches the server');
    const denies = await adminGet(server, `/admin/v1/audit?decision=deny&deviceId=${device?.id}&limit=5`);
    assert.equal((denies.body?.items as unknown[]).length, 5);
    assert.ok(denies.body?.nextCursor);
  });

  test('a lost acknowledgement is retried and de-duplicated: exactly once on the server', async () => {
    const before = await serverCount();
    let dropAck = true;
    const lossy: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      if (dropAck && url.endsWith('/v1/events') && response.status === 200) {
        dropAck = false;
        throw new Error('connection reset after the server committed');
      }
      return response;
    };
    await h.restart({ fetch: lossy });
    h.audit.appendBatch(Array.from({ length: 40 }, () => decisionInput()));
    const failed = await h.client.syncNow();
    assert.equal(failed.ok, false);
    assert.equal(h.client.status().phase, 'backing-off');
    assert.ok(h.client.status().outbox.pending >= 40, 'unacknowledged events stay in the outbox');
    assert.equal(await serverCount(), before + 40 + 0, 'the server did commit the batch');
    const retried = await h.client.syncNow();
    assert.equal(retried.ok, true, retried.error);
    assert.equal(retried.duplicates, 40);
    assert.equal(await serverCount(), before + 40);
    assert.equal(readSyncState(h.db).consecutive_failures, 0);
    await h.restart({});
  });

  test('inventory: snapshot, then deltas; fleet queries find a server with a literal secret by version', async () => {
    const literal = { posture: 'literal' as const, findings: [{ location: 'env' as const, name: 'GITHUB_TOKEN', posture: 'literal' as const, kind: 'github-token' }] };
    h.inventory = inventoryOf([agent('claude-code')], [mcp('github', { args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], credential: literal }), mcp('files')]);
    assert.equal((await h.client.syncNow()).ok, true);
    const first = readSyncState(h.db).inventory_hash;
    assert.ok(first);
    const found = await adminGet(server, '/admin/v1/mcp-servers/instances?package=@modelcontextprotocol/server-github&posture=literal');
    const items = found.body?.items as Record<string, unknown>[];
    assert.equal(items.length, 1, found.text);
    assert.equal(items[0]?.version, '2025.4.8');
    assert.equal(items[0]?.hostname, 'h');
    // A change goes up as a delta: one upsert, one removal.
    h.inventory = inventoryOf([agent('claude-code', { version: '2.0.0', fingerprint: 'fp2' })], [mcp('github', { args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'], credential: literal })]);
    assert.equal((await h.client.syncNow()).ok, true);
    assert.notEqual(readSyncState(h.db).inventory_hash, first);
    const changes = await adminGet(server, '/admin/v1/changes?limit=10');
    const kinds = (changes.body?.items as Record<string, unknown>[]).map((c) => `${c.item}:${c.change}`);
    assert.ok(kinds.includes('agent:changed') && kinds.includes('mcp-server:removed'), kinds.join(','));
    const agents = await adminGet(server, '/admin/v1/agents');
    assert.deepEqual((agents.body?.items as Record<string, unknown>[]).map((a) => a.version), ['2.0.0']);
  });

  test('a server that lost the base gets a snapshot after 409', async () => {
    await server.store.driver.run('UPDATE devices SET inventory_hash = ?', ['0'.repeat(64)]);
    h.inventory = inventoryOf([agent('claude-code', { version: '2.0.1', fingerprint: 'fp3' })], []);
    assert.equal((await h.client.syncNow()).ok, true);
    const device = (await adminGet(server, '/admin/v1/devices')).body?.items as Record<string, unknown>[];
    assert.equal(device[0]?.mcpServers, 0);
    assert.equal(device[0]?.agents, 1);
  });

  test('policy: validated on save, delivered with ETag, applied version reported', async () => {
    const bad = await adminSend(server, 'PUT', '/admin/v1/policy', { text: 'version: 1\nrules:\n  - id: x\n    action: explode\n' });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body?.error, 'invalid_policy');
    const good = await adminSend(server, 'PUT', '/admin/v1/policy', { text: 'version: 1\nrules:\n  - id: no-paste\n    action: deny\n    hosts: ["pastebin.com"]\n', comment: 'block paste' });
    assert.equal(good.status, 201, good.text);
    assert.equal((await h.client.syncNow()).ok, true);
    assert.equal(h.policies.at(-1)?.version, 1);
    assert.match(h.client.fleetPolicy()?.text ?? '', /no-paste/);
    h.inventory = inventoryOf([agent('claude-code', { version: '2.0.2', fingerprint: 'fp4' })], []);
    const count = h.policies.length;
    assert.equal((await h.client.syncNow()).ok, true);
    assert.equal(h.policies.length, count, 'a 304 does not re-apply the policy');
    const status = await adminGet(server, '/admin/v1/policy');
    assert.deepEqual(status.body?.applied, [{ version: 1, devices: 1 }]);
  });

  test('an event the server refuses is set aside and recorded; the others still arrive', async () => {
    auditChain(h.db).append([eventRowInput('00000000-0000-4000-8000-000000000001', new Date().toISOString(), 'bad type with spaces', 'x', null, null)]);
    h.audit.appendBatch([decisionInput()]);
    const result = await h.client.syncNow();
    assert.equal(result.ok, true, result.error);
    const dropped = h.audit.query({ types: ['sync.dropped'] });
    assert.equal(dropped.length, 1);
    assert.match(dropped[0]?.summary ?? '', /refused by the server/);
    // The sync.dropped record itself reaches the server on the next run.
    await h.client.syncNow();
    const onServer = await adminGet(server, '/admin/v1/audit?type=sync.dropped');
    assert.equal((onServer.body?.items as unknown[]).length, 1);
    assert.equal(h.client.status().outbox.pending, 0);
  });

  test('re-key from the console: the device rotates its key and keeps syncing', async () => {
    const before = readSyncState(h.db).key_thumbprint;
    const id = readSyncState(h.db).device_id;
    assert.equal((await adminSend(server, 'POST', `/admin/v1/devices/${id}/rekey`)).status, 202);
    assert.equal((await h.client.syncNow()).ok, true);
    const after = readSyncState(h.db).key_thumbprint;
    assert.notEqual(after, before);
    const detail = await adminGet(server, `/admin/v1/devices/${id}`);
    const device = detail.body?.device as Record<string, unknown>;
    assert.equal(device.keyThumbprint, after);
    assert.equal(device.rekeyRequested, false);
    h.audit.append('settings.changed', 'after rekey', {});
    const next = await h.client.syncNow();
    assert.equal(next.ok, true, next.error);
    assert.equal(next.sent, 1);
  });

  test('a revoked device stops syncing and says so', async () => {
    const id = readSyncState(h.db).device_id;
    assert.equal((await adminSend(server, 'POST', `/admin/v1/devices/${id}/revoke`)).status, 200);
    const result = await h.client.syncNow();
    assert.equal(result.ok, false);
    assert.equal(result.phase, 'revoked');
    assert.equal(h.client.status().phase, 'revoked');
    assert.equal((await h.client.syncNow()).phase, 'revoked', 'no further calls');
  });

  test('enrolling again after revocation gives a new device', async () => {
    const old = readSyncState(h.db).device_id;
    const { secret } = await server.store.credentials.createEnrollSecret({ maxUses: 1 }, Date.now());
    await h.keyManager.rotate({ device: true });
    const enrolled = await enrollDevice({ db: h.db, keyManager: h.keyManager, keyStore: h.keyStore, serverUrl: server.url, secret, fetch, agentVersion: 'x' });
    assert.notEqual(enrolled.deviceId, old);
    await assert.rejects(
      enrollDevice({ db: h.db, keyManager: h.keyManager, keyStore: h.keyStore, serverUrl: server.url, secret, fetch, agentVersion: 'x' }),
      /refused the enroll secret/,
      'a one-use secret cannot be used twice',
    );
    assert.equal((await h.client.syncNow()).ok, true);
  });

  test('a token the server no longer knows is dropped, and the device enrolls again from the managed secret', async () => {
    const { secret } = await server.store.credentials.createEnrollSecret({}, Date.now());
    h.settings.enrollSecret = secret;
    const old = readSyncState(h.db).device_id;
    await server.store.driver.run('UPDATE devices SET token_hash = ? WHERE id = ?', ['0'.repeat(64), old]);
    const refused = await h.client.syncNow();
    assert.equal(refused.ok, false);
    assert.equal(await h.keyStore.get('fleet:access-token'), null, 'the dead token is forgotten');
    const again = await h.client.syncNow();
    assert.equal(again.ok, true, again.error);
    assert.equal(readSyncState(h.db).device_id, old, 'same key, same device: the server re-issued its token');
  });
});
