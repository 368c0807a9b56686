/**
 * POST /v1/inventory: snapshots and deltas against the digest the server holds, 409 when the base
 * differs or a delta does not land on the claimed digest (nothing stored), strict validation
 * (422 with problems), and the package/version the console groups MCP servers by.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceState, InventoryUpload } from '../../app/api/sync.ts';
import { digestOfRecords } from '../../app/sync/inventoryHash.ts';
import { buildUpload, prepareInventory } from '../../app/sync/inventorySync.ts';
import { mcpPackageOf } from '../../server/sync/mcpPackage.ts';
import { agent, inventoryOf, server as mcp } from '../discovery/inventoryFixtures.ts';
import { adminGet, backendMatrix, enrollTestDevice, startTestServer, type TestDevice, type TestServer } from './helpers.ts';

const STATE: DeviceState = { agentVersion: '0.1.0', mode: 'enforce', protection: 'protected', policyVersion: null };

test('MCP packages and versions are read from how servers are launched', () => {
  const of = (command: string, args: string[]) => mcpPackageOf({ command, args });
  assert.deepEqual(of('npx', ['-y', '@modelcontextprotocol/server-github@2025.4.8']), { name: '@modelcontextprotocol/server-github', version: '2025.4.8', ecosystem: 'npm' });
  assert.deepEqual(of('/usr/bin/npx', ['--yes', 'mcp-remote', 'https://x']), { name: 'mcp-remote', version: null, ecosystem: 'npm' });
  assert.deepEqual(of('pnpm', ['dlx', 'figma-mcp@1.2.0']), { name: 'figma-mcp', version: '1.2.0', ecosystem: 'npm' });
  assert.deepEqual(of('uvx', ['mcp-server-git==0.6.2']), { name: 'mcp-server-git', version: '0.6.2', ecosystem: 'pypi' });
  assert.deepEqual(of('uvx', ['--from', 'awslabs.aws-docs@1.0', 'aws-docs']), { name: 'awslabs.aws-docs', version: '1.0', ecosystem: 'pypi' });
  assert.deepEqual(of('docker', ['run', '-i', '--rm', '-e', 'TOKEN', 'ghcr.io/github/github-mcp-server:v0.5']), { name: 'ghcr.io/github/github-mcp-server', version: 'v0.5', ecosystem: 'oci' });
  assert.equal(of('node', ['/opt/server.js']), null);
  assert.equal(of('npx', ['./local-dir']), null);
});

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`inventory sync (${backend})`, { skip }, () => {
    let server: TestServer;
    let device: TestDevice;
    const post = async (body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const r = await device.call('POST', '/v1/inventory', body);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const v1 = inventoryOf([agent('claude-code'), agent('codex')], [mcp('github', { args: ['-y', '@modelcontextprotocol/server-github@1.0.0'] }), mcp('files')]);

    test('setup', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
      device = await enrollTestDevice(server);
    });

    test('a snapshot, then a delta that lands on the claimed digest', async () => {
      const first = await post(buildUpload(v1, prepareInventory(v1), STATE, null));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, { hash: digestOfRecords(v1.agents, v1.mcpServers), added: 4, changed: 0, removed: 0 });
      const v2 = inventoryOf([agent('claude-code', { version: '2.0.0', fingerprint: 'x' })], [...v1.mcpServers, mcp('slack', { credential: { posture: 'literal', findings: [] } })]);
      const sent = { hash: String(first.body.hash), agents: v1.agents, mcpServers: v1.mcpServers };
      const delta = buildUpload(v2, prepareInventory(v2), STATE, sent);
      assert.equal(delta.kind, 'delta');
      const second = await post(delta);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.deepEqual({ ...second.body, hash: undefined }, { hash: undefined, added: 1, changed: 1, removed: 1 });
      const d = (await adminGet(server, '/admin/v1/devices')).body?.items as Record<string, unknown>[];
      assert.deepEqual([d[0]?.agents, d[0]?.mcpServers, d[0]?.literalSecrets, d[0]?.mode, d[0]?.protection], [1, 3, 1, 'enforce', 'protected']);
    });

    test('a delta on a stale base, or one that does not land, is 409 and changes nothing', async () => {
      const before = await server.store.driver.all('SELECT server_id, record_hash FROM device_mcp_servers ORDER BY server_id');
      const stale: InventoryUpload = { kind: 'delta', state: STATE, baseHash: 'a'.repeat(64), hash: 'b'.repeat(64), scannedAt: v1.scannedAt, host: v1.host, agents: { upsert: [], remove: [] }, mcpServers: { upsert: [], remove: ['mcp_files'] } };
      const r1 = await post(stale);
      assert.equal(r1.status, 409);
      assert.equal(r1.body.error, 'snapshot_required');
      const base = (await server.store.driver.get<{ inventory_hash: string }>('SELECT inventory_hash FROM devices'))?.inventory_hash ?? '';
      const r2 = await post({ ...stale, baseHash: base });
      assert.equal(r2.status, 409, 'the claimed digest does not match: rolled back');
      assert.deepEqual(await server.store.driver.all('SELECT server_id, record_hash FROM device_mcp_servers ORDER BY server_id'), before);
    });

    test('invalid inventories are refused with problems', async () => {
      const snapshot = buildUpload(v1, prepareInventory(v1), STATE, null) as Extract<InventoryUpload, { kind: 'snapshot' }>;
      const bad = (inventory: unknown, extra: Record<string, unknown> = {}) => post({ ...snapshot, inventory, ...extra });
      const cases: [string, Promise<{ status: number; body: Record<string, unknown> }>, RegExp][] = [
        ['kind', post({ kind: 'everything' }), /kind/],
        ['state', post({ ...snapshot, state: { ...STATE, mode: 'yolo' } }), /state.mode/],
        ['managed keys', post({ ...snapshot, state: { ...STATE, managed: { enforced: ['mode', 'rm -rf'], defaults: [], source: null, fingerprint: null, problems: 0 } } }), /state.managed.enforced/],
        ['managed extra', post({ ...snapshot, state: { ...STATE, managed: { enforced: [], defaults: [], source: null, fingerprint: null, problems: 0, secret: 'x' } } }), /state.managed.secret/],
        ['managed problems', post({ ...snapshot, state: { ...STATE, managed: { enforced: [], defaults: [], source: null, fingerprint: null, problems: -1 } } }), /state.managed.problems/],
        ['schema', bad({ ...v1, schemaVersion: 2 }), /schemaVersion/],
        ['duplicate ids', bad({ ...v1, agents: [v1.agents[0], v1.agents[0]] }), /twice/],
        ['bad agent', bad({ ...v1, agents: [{ ...v1.agents[0], installType: 'virus' }] }), /installType/],
        ['bad server', bad({ ...v1, mcpServers: [{ ...v1.mcpServers[0], enabled: 'yes', credential: { posture: 'maybe', findings: [] } }] }), /enabled|posture/],
        ['huge record', bad({ ...v1, agents: [{ ...v1.agents[0], path: 'p'.repeat(40_000) }] }), /larger than/],
        ['hash', post({ ...snapshot, hash: 'nope' }), /hash/],
      ];
      for (const [name, pending, pattern] of cases) {
        const r = await pending;
        assert.equal(r.status, 422, `${name}: ${JSON.stringify(r.body)}`);
        assert.match(JSON.stringify(r.body.problems), pattern, name);
      }
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}
