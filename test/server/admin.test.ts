/**
 * The admin (console) API: token required, strict query parameters, paging with opaque cursors,
 * fleet-wide groupings, policy versions with rollback and device ETags, and the server CLI that
 * creates enroll secrets and admin tokens.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { runServerCli } from '../../server/main.ts';
import { agent, inventoryOf, server as mcp } from '../discovery/inventoryFixtures.ts';
import { buildUpload, prepareInventory } from '../../app/sync/inventorySync.ts';
import { adminGet, adminSend, backendMatrix, enrollTestDevice, freshLocation, rawRequest, startTestServer, type TestServer } from './helpers.ts';

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`admin API (${backend})`, { skip }, () => {
    let server: TestServer;

    test('setup: five devices with inventories', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
      for (let i = 0; i < 5; i++) {
        const device = await enrollTestDevice(server, { hostname: `host-${i}`, platform: i % 2 ? 'darwin' : 'linux', user: `user${i}`, agentVersion: '0.1.0' });
        const inv = { ...inventoryOf([agent('claude-code', { version: i < 3 ? '1.0.0' : '2.0.0' })], [mcp('github', { args: ['-y', `@modelcontextprotocol/server-github@${i < 4 ? '1' : '2'}`], credential: { posture: i === 0 ? 'literal' : 'reference', findings: [] } })]), host: { hostname: `host-${i}`, platform: 'linux', user: `user${i}`, home: '/home' } };
        const r = await device.call('POST', '/v1/inventory', buildUpload(inv, prepareInventory(inv), { agentVersion: '0.1.0', mode: 'monitor', protection: 'protected', policyVersion: null }, null));
        assert.equal(r.status, 200, await r.text());
      }
    });

    test('the admin token is required, and only as a Bearer admin token', async () => {
      for (const headers of [{} as Record<string, string | string[]>, { authorization: 'Bearer cat_wrong' }, { authorization: `DPoP ${server.adminToken}` }, { authorization: [`Bearer ${server.adminToken}`, `Bearer ${server.adminToken}`] }]) {
        const r = await rawRequest(`${server.url}/admin/v1/devices`, 'GET', headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.match(String(r.headers['www-authenticate']), /Bearer realm="cordon-admin"/);
      }
    });

    test('devices page with opaque cursors and filter; bad parameters are 400', async () => {
      const first = await adminGet(server, '/admin/v1/devices?limit=2');
      assert.deepEqual((first.body?.items as { hostname: string }[]).map((d) => d.hostname), ['host-0', 'host-1']);
      const next = await adminGet(server, `/admin/v1/devices?limit=2&cursor=${first.body?.nextCursor}`);
      assert.deepEqual((next.body?.items as { hostname: string }[]).map((d) => d.hostname), ['host-2', 'host-3']);
      assert.equal(typeof first.body?.tookMs, 'number');
      const search = await adminGet(server, '/admin/v1/devices?q=HOST-4');
      assert.deepEqual((search.body?.items as { user: string }[]).map((d) => d.user), ['user4']);
      const like = await adminGet(server, '/admin/v1/devices?q=%25');
      assert.equal((like.body?.items as unknown[]).length, 0, 'LIKE wildcards in search text match literally');
      for (const bad of ['limit=0', 'limit=abc', 'cursor=nonsense', 'mode=chaos', 'unknown=1', 'seenSince=not-a-date', 'q=a&q=b']) {
        const r = await adminGet(server, `/admin/v1/devices?${bad}`);
        assert.equal(r.status, 400, `${bad}: ${r.text}`);
      }
      assert.equal((await adminGet(server, '/admin/v1/devices/dev_nope')).status, 404);
    });

    test('agents, MCP servers and instances across the fleet', async () => {
      const agents = await adminGet(server, '/admin/v1/agents');
      assert.deepEqual((agents.body?.items as Record<string, unknown>[]).map((a) => [a.version, a.devices]), [['1.0.0', 3], ['2.0.0', 2]]);
      const groups = await adminGet(server, '/admin/v1/mcp-servers?q=github');
      assert.deepEqual((groups.body?.items as Record<string, unknown>[]).map((g) => [g.package, g.version, g.devices, g.literalDevices]), [
        ['@modelcontextprotocol/server-github', '1', 4, 1],
        ['@modelcontextprotocol/server-github', '2', 1, 0],
      ]);
      const literal = await adminGet(server, '/admin/v1/mcp-servers/instances?posture=literal');
      assert.deepEqual((literal.body?.items as Record<string, unknown>[]).map((m) => m.hostname), ['host-0']);
      const changes = await adminGet(server, '/admin/v1/changes?item=mcp-server&limit=3');
      assert.equal((changes.body?.items as unknown[]).length, 3);
      assert.match(String(changes.body?.nextCursor), /^\d+$/);
    });

    test('agent and MCP groups page on with cursors, most devices first; a drill-down refuses a cursor', async () => {
      const walk = async (path: string): Promise<Record<string, unknown>[]> => {
        const seen: Record<string, unknown>[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 20; i++) {
          const r = await adminGet(server, `${path}${path.includes('?') ? '&' : '?'}limit=1${cursor ? `&cursor=${cursor}` : ''}`);
          assert.equal(r.status, 200, r.text);
          seen.push(...(r.body?.items as Record<string, unknown>[]));
          cursor = (r.body?.nextCursor as string | null) ?? null;
          if (cursor === null) return seen;
        }
        throw new Error('paging did not end');
      };
      const agents = await walk('/admin/v1/agents');
      assert.deepEqual(agents.map((a) => [a.version, a.devices]), [['1.0.0', 3], ['2.0.0', 2]]);
      const github = await walk('/admin/v1/mcp-servers?q=github');
      assert.deepEqual(github.map((g) => [g.version, g.devices]), [['1', 4], ['2', 1]]);
      const all = await walk('/admin/v1/mcp-servers');
      const whole = (await adminGet(server, '/admin/v1/mcp-servers?limit=1000')).body?.items as Record<string, unknown>[];
      assert.deepEqual(all, whole, 'one group per page, in the same order as one big page');
      const devices = all.map((g) => g.devices as number);
      assert.deepEqual(devices, [...devices].sort((a, b) => b - a));
      const first = await adminGet(server, '/admin/v1/mcp-servers?limit=1');
      const drill = await adminGet(server, `/admin/v1/mcp-servers?changedSince=1970-01-01T00:00:00Z&cursor=${first.body?.nextCursor}`);
      assert.equal(drill.status, 400, 'per-device filters come in one page');
      assert.equal((await adminGet(server, '/admin/v1/agents?cursor=nonsense')).status, 400);
    });

    test('the maintained fleet-wide counts equal a full aggregation, also after a revocation', async () => {
      const sort = (items: readonly unknown[]) => items.map((i) => JSON.stringify(i)).sort();
      const compare = async (): Promise<void> => {
        const fast = await server.store.queries.mcpServers({ limit: 1000 });
        const full = await server.store.queries.mcpServers({ limit: 1000, changedSince: 0 });
        assert.deepEqual(sort(fast.items), sort(full.items));
        const agents = await server.store.driver.all('SELECT a.kind, a.name, a.version, count(DISTINCT a.device_id) AS devices FROM device_agents a JOIN devices d ON d.id = a.device_id WHERE d.revoked_at IS NULL GROUP BY a.kind, a.name, a.version');
        assert.deepEqual(sort((await server.store.queries.agents({ limit: 1000 })).items), sort(agents));
      };
      await compare();
      const id = ((await adminGet(server, '/admin/v1/devices?q=host-0')).body?.items as { id: string }[])[0]?.id;
      assert.equal((await adminSend(server, 'POST', `/admin/v1/devices/${id}/revoke`)).status, 200);
      await compare();
      const literal = await adminGet(server, '/admin/v1/mcp-servers?posture=literal');
      assert.deepEqual(literal.body?.items, [], 'the only literal secret was on the revoked device');
    });

    test('policy: versions, rollback, clear; devices see ETags and 304', async () => {
      const device = await enrollTestDevice(server, { hostname: 'policy-host', platform: 'linux', user: 'u', agentVersion: '1' });
      assert.equal((await adminSend(server, 'PUT', '/admin/v1/policy', { text: 'version: 1\n' })).status, 201);
      assert.equal((await adminSend(server, 'PUT', '/admin/v1/policy', { text: 'version: 1\ndefaults:\n  egress: ask\n', comment: 'stricter' })).status, 201);
      const versions = await adminGet(server, '/admin/v1/policy/versions');
      assert.deepEqual((versions.body?.items as Record<string, unknown>[]).map((v) => [v.version, v.current]), [[2, true], [1, false]]);
      const got = await device.call('GET', '/v1/policy');
      const etag = got.headers.get('etag') ?? '';
      assert.equal(((await got.json()) as { policy: { version: number } }).policy.version, 2);
      assert.equal((await device.call('GET', '/v1/policy', undefined, { 'if-none-match': etag })).status, 304);
      assert.equal((await adminSend(server, 'POST', '/admin/v1/policy/versions/1/activate')).status, 200);
      const rolled = await device.call('GET', '/v1/policy', undefined, { 'if-none-match': etag });
      assert.equal(rolled.status, 200);
      assert.equal(((await rolled.json()) as { policy: { version: number } }).policy.version, 1);
      assert.equal((await adminSend(server, 'POST', '/admin/v1/policy/versions/99/activate')).status, 404);
      assert.equal((await adminSend(server, 'DELETE', '/admin/v1/policy')).status, 200);
      const cleared = await device.call('GET', '/v1/policy');
      assert.equal(((await cleared.json()) as { policy: unknown }).policy, null);
      const notYaml = await adminSend(server, 'PUT', '/admin/v1/policy', { text: '{{{{' });
      assert.equal(notYaml.status, 422);
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}

test('server CLI: enroll secrets and admin tokens are created, listed and revoked; bad usage exits 2', async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const db = location.kind === 'sqlite' ? `sqlite:${location.file}` : '';
  const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
    const code = await runServerCli(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {} });
    return { code, out, err };
  };
  try {
    const created = await cli('enroll-secret', 'create', '--db', db, '--label', 'laptops', '--max-uses', '10', '--json');
    assert.equal(created.code, 0, created.err);
    const info = JSON.parse(created.out) as { id: string; secret: string; maxUses: number };
    assert.match(info.secret, /^ces_/);
    assert.equal(info.maxUses, 10);
    const listed = await cli('enroll-secret', 'list', '--db', db);
    assert.match(listed.out, new RegExp(`${info.id}\\tactive`));
    assert.ok(!listed.out.includes(info.secret), 'secrets are shown once only');
    assert.equal((await cli('enroll-secret', 'revoke', info.id, '--db', db)).code, 0);
    assert.equal((await cli('enroll-secret', 'revoke', info.id, '--db', db)).code, 1);
    const token = await cli('admin-token', 'create', '--db', db);
    assert.match(token.out.trim(), /^cat_[A-Za-z0-9_-]{43}$/);
    assert.equal((await cli('enroll-secret', 'create', '--db', db, '--max-uses', 'lots')).code, 2);
    assert.equal((await cli('frobnicate')).code, 2);
    assert.equal((await cli('enroll-secret', 'list', '--db', 'mysql://x')).code, 1);
  } finally {
    cleanup();
  }
});
