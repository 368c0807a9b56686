/**
 * The console's data endpoints on SQLite and PostgreSQL, fed through the real device protocol:
 * the overview's counts, the audit timeline (decisions and approvals per bucket), audit export
 * as OCSF JSON lines and CSV with the search filters, and the server serving the built console
 * with its security headers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AuditTimeline, FleetOverview } from '../../app/api/fleetConsole.ts';
import type { SyncEvent } from '../../app/api/sync.ts';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { buildUpload, prepareInventory } from '../../app/sync/inventorySync.ts';
import { silentLogger } from '../../app/util/log.ts';
import { createFleetServer } from '../../server/app.ts';
import { decisionInput, tempDb } from '../audit/fixtures.ts';
import { agent, inventoryOf, server as mcp } from '../discovery/inventoryFixtures.ts';
import { adminGet, backendMatrix, enrollTestDevice, rawRequest, startTestServer, type TestDevice, type TestServer } from './helpers.ts';

const HOUR = 3_600_000;

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`console data (${backend})`, { skip }, () => {
    let server: TestServer;
    const devices: TestDevice[] = [];
    const base = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

    test('setup: three devices with inventories, decisions over three hours, approvals', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
      for (let i = 0; i < 3; i++) {
        const device = await enrollTestDevice(server, { hostname: `laptop-${i}`, platform: 'linux', user: `dev${i}`, agentVersion: '0.1.0' });
        devices.push(device);
        const inv = { ...inventoryOf([agent('claude-code')], [mcp('github', { credential: { posture: i === 0 ? 'literal' : 'reference', findings: [] } })]), host: { hostname: `laptop-${i}`, platform: 'linux', user: `dev${i}`, home: '/home' } };
        const state = { agentVersion: '0.1.0', mode: i === 2 ? 'monitor' : 'enforce', protection: i === 1 ? 'degraded' : 'protected', policyVersion: null } as const;
        const r = await device.call('POST', '/v1/inventory', buildUpload(inv, prepareInventory(inv), state, null));
        assert.equal(r.status, 200, await r.text());
        const local = tempDb();
        const log = createAuditLog(local.db, { headFile: null });
        // Per device: hour 0: 2 allow; hour 1: 1 deny + 1 allow; hour 2: 1 deny to paste.example (device 0 only).
        log.appendBatch([
          decisionInput({ action: 'allow', time: new Date(base + 60_000) }),
          decisionInput({ action: 'allow', time: new Date(base + 120_000) }),
          decisionInput({ action: 'deny', time: new Date(base + HOUR + 60_000) }),
          decisionInput({ action: 'allow', time: new Date(base + HOUR + 120_000) }),
          ...(i === 0 ? [decisionInput({ action: 'deny', time: new Date(base + 2 * HOUR + 60_000), request: { host: 'paste.example' } })] : []),
        ]);
        if (i === 0) {
          log.append('approval.requested', 'approval asked: GET https://new.example', { id: 'ap1', status: 'pending' }, 'ap1');
          log.append('approval.answered', 'approval allowed: GET https://new.example', { id: 'ap1', status: 'allowed' }, 'ap1');
          log.append('approval.requested', 'approval asked: POST https://drop.example', { id: 'ap2', status: 'pending' }, 'ap2');
          log.append('approval.answered', 'approval expired: POST https://drop.example', { id: 'ap2', status: 'expired' }, 'ap2');
        }
        const events: SyncEvent[] = log.query({ order: 'asc', limit: 100 });
        const posted = await device.call('POST', '/v1/events', { after: 0, events });
        assert.equal(posted.status, 200, await posted.text());
        local.cleanup();
      }
      assert.equal((await server.store.policies.save('version: 1\nrules: []\n', null, Date.now())), 1);
      await server.store.driver.run('UPDATE devices SET policy_version = 1 WHERE hostname = ?', ['laptop-0']);
    });

    test('overview: device states, literal secrets, decisions of the last day, policy rollout', async () => {
      const r = await adminGet(server, '/admin/v1/overview');
      assert.equal(r.status, 200, r.text);
      const o = r.body as unknown as FleetOverview;
      assert.deepEqual(o.devices, { active: 3, revoked: 0, seenLastDay: 3, stale: 0, enforce: 2, monitor: 1, protection: { protected: 2, degraded: 1, unprotected: 0, unknown: 0 }, chainProblems: 0 });
      assert.equal(o.agentKinds, 1);
      assert.equal(o.mcpServerGroups, 1);
      assert.equal(o.devicesWithLiteralSecrets, 1);
      assert.deepEqual(o.lastDay, { allow: 9, log: 0, ask: 0, deny: 4 });
      assert.deepEqual(o.policy, { currentVersion: 1, devicesOnCurrent: 1 });
      assert.equal((await adminGet(server, '/admin/v1/overview?x=1')).status, 400);
    });

    test('timeline: decisions and approvals per hour, filtered by device; bad ranges are 400', async () => {
      const until = base + 4 * HOUR;
      const r = await adminGet(server, `/admin/v1/audit/timeline?since=${base}&until=${until}&bucket=hour`);
      assert.equal(r.status, 200, r.text);
      const t = r.body as unknown as AuditTimeline;
      assert.equal(t.buckets.length, 4);
      assert.deepEqual(t.buckets.slice(0, 3).map((b) => [b.start, b.allow, b.deny]), [
        [new Date(base).toISOString(), 6, 0],
        [new Date(base + HOUR).toISOString(), 3, 3],
        [new Date(base + 2 * HOUR).toISOString(), 0, 1],
      ]);
      const approvals = t.buckets.reduce((n, b) => ({ req: n.req + b.approvalsRequested, ok: n.ok + b.approvalsAllowed, no: n.no + b.approvalsDenied }), { req: 0, ok: 0, no: 0 });
      assert.deepEqual(approvals, { req: 2, ok: 1, no: 1 });
      const one = (await adminGet(server, `/admin/v1/audit/timeline?since=${base}&until=${until}&deviceId=${devices[1]?.deviceId}`)).body as unknown as AuditTimeline;
      assert.deepEqual(one.buckets.map((b) => b.allow + b.deny), [2, 2, 0, 0]);
      const daily = (await adminGet(server, `/admin/v1/audit/timeline?bucket=day`)).body as unknown as AuditTimeline;
      assert.equal(daily.buckets.reduce((n, b) => n + b.allow + b.deny, 0), 13);
      for (const bad of [`since=${until}&until=${base}`, 'bucket=week', `since=0&until=${until}`, 'since=yesterday']) {
        assert.equal((await adminGet(server, `/admin/v1/audit/timeline?${bad}`)).status, 400, bad);
      }
    });

    test('export: CSV and OCSF JSON lines with the search filters, as a download', async () => {
      const csv = await adminGet(server, '/admin/v1/audit/export?format=csv&decision=deny');
      assert.equal(csv.status, 200);
      assert.match(String(csv.headers['content-disposition']), /^attachment; filename="cordon-audit-.*\.csv"$/);
      const lines = csv.text.trim().split('\r\n');
      assert.equal(lines[0]?.startsWith('device_id,hostname,seq,time,type,agent'), true, lines[0]);
      assert.equal(lines.length, 1 + 4);
      assert.ok(lines.slice(1).every((l) => l.includes(',deny,')));
      const ocsf = await adminGet(server, `/admin/v1/audit/export?format=ocsf&host=paste.example`);
      assert.equal(ocsf.status, 200);
      const records = ocsf.text.trim().split('\n').map((l) => JSON.parse(l) as { class_uid: number; device: { uid: string; hostname: string }; dst_endpoint: { hostname: string } });
      assert.equal(records.length, 1);
      assert.equal(records[0]?.device.uid, devices[0]?.deviceId);
      assert.equal(records[0]?.device.hostname, 'laptop-0');
      assert.equal(records[0]?.dst_endpoint.hostname, 'paste.example');
      const all = await adminGet(server, '/admin/v1/audit/export?format=ocsf');
      assert.equal(all.text.trim().split('\n').length, 3 * 4 + 1 + 4, 'every decision and approval event');
      for (const bad of ['format=xml', '', 'format=csv&decision=maybe', 'format=csv&since=nope']) {
        assert.equal((await adminGet(server, `/admin/v1/audit/export?${bad}`)).status, 400, bad);
      }
      assert.equal((await rawRequest(`${server.url}/admin/v1/audit/export?format=csv`, 'GET', {})).status, 401);
    });

    test('fleet context for prompts: distinct other devices that allowed or blocked a host; the asker is left out', async () => {
      const asker = devices[0];
      assert.ok(asker);
      const r = await asker.call('GET', '/v1/context/destination?host=API.example.com');
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { host: 'api.example.com', days: 30, devicesAllowed: 2, devicesDenied: 2 });
      const paste = await asker.call('GET', '/v1/context/destination?host=paste.example');
      assert.deepEqual(await paste.json(), { host: 'paste.example', days: 30, devicesAllowed: 0, devicesDenied: 0 }, "device 0's own block is not counted");
      for (const bad of ['', '?host=', '?host=a%20b', '?host=x&extra=1', `?host=${'a'.repeat(300)}`]) {
        assert.equal((await asker.call('GET', `/v1/context/destination${bad}`)).status, 400, bad);
      }
      assert.equal((await rawRequest(`${server.url}/v1/context/destination?host=x`, 'GET', {})).status, 401);
    });

    test('the built console is served with its security headers; API paths are never files', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cordon-console-'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Cordon fleet</title>');
      writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
      const fleet = createFleetServer({ store: server.store, log: silentLogger, consoleDir: dir });
      const url = await fleet.listen(0);
      try {
        const index = await rawRequest(`${url}/`, 'GET', {});
        assert.equal(index.status, 200);
        assert.match(index.text, /Cordon fleet/);
        assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
        assert.equal(index.headers['x-frame-options'], 'DENY');
        assert.equal((await rawRequest(`${url}/devices/anything`, 'GET', {})).text, index.text, 'client routes get index.html');
        const asset = await rawRequest(`${url}/assets/app-1.js`, 'GET', {});
        assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
        assert.match(String(asset.headers['cache-control']), /immutable/);
        assert.equal((await rawRequest(`${url}/assets/%2e%2e/%2e%2e/etc/passwd.js`, 'GET', {})).status, 404);
        assert.equal((await rawRequest(`${url}/admin/v1/nothing`, 'GET', {})).status, 404);
        assert.equal((await rawRequest(`${url}/admin/v1/nothing`, 'GET', {})).headers['content-type'], 'application/json; charset=utf-8');
      } finally {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
      }
      const missing = createFleetServer({ store: server.store, log: silentLogger, consoleDir: join(tmpdir(), 'cordon-no-console-here') });
      const url2 = await missing.listen(0);
      try {
        const r = await rawRequest(`${url2}/`, 'GET', {});
        assert.equal(r.status, 503);
        assert.match(r.text, /npm run build:console/);
      } finally {
        await missing.close();
      }
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}

