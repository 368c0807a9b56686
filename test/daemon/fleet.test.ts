// A fresh daemon whose managed settings name a fleet server and an enroll secret enrolls on its
// first start with no user action, applies the fleet policy, and its audit events reach the
// server; removing the managed file is noticed and recorded. An enrolled daemon's approval
// prompts carry fleet context: how many other devices allowed or blocked the destination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CordonEvent } from '../../app/api/control.ts';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { decisionInput, tempDb } from '../audit/fixtures.ts';
import { startDaemonProcess, waitFor } from '../helpers/daemonProcess.ts';
import { adminGet, adminSend, enrollTestDevice, freshLocation, startTestServer } from '../server/helpers.ts';

test('managed fleetServerUrl + enrollSecret: silent enrollment, fleet policy applied, events synced, managed file removal recorded', async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const server = await startTestServer(location, { cleanup });
  const home = mkdtempSync(join(tmpdir(), 'cordon-fleet-home-'));
  const cordonHome = mkdtempSync(join(tmpdir(), 'cordon-fleet-'));
  const managed = join(cordonHome, 'managed.json');
  writeFileSync(managed, JSON.stringify({ fleetServerUrl: server.url, enrollSecret: server.enrollSecret, syncIntervalSeconds: 10 }));
  const pushed = await adminSend(server, 'PUT', '/admin/v1/policy', { text: 'version: 1\nrules:\n  - id: fleet-no-exfil\n    action: deny\n    hosts: [exfil.invalid]\n', comment: 'test' });
  assert.equal(pushed.status, 201, pushed.text);
  const daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-fleet-${process.pid}`, CORDON_MANAGED_SETTINGS: managed } });
  try {
    const client = await daemon.connect();
    await waitFor(async () => (await client.call('status', {})).fleet?.deviceId != null, 30_000, () => daemon.output().slice(-3000));
    const status = await client.call('status', {});
    assert.equal(status.fleet?.serverUrl?.replace(/\/$/, ''), server.url.replace(/\/$/, ''));

    // The fleet policy is a layer of the effective policy.
    await waitFor(async () => (await client.call('policy', {})).view.rules.some((r) => r.layer === 'fleet' && r.rule.id === 'fleet-no-exfil'), 30_000);

    // The device and its events are on the server.
    await waitFor(async () => {
      const devices = await adminGet(server, '/admin/v1/devices');
      return JSON.stringify(devices.body).includes(status.fleet?.deviceId ?? 'none');
    }, 30_000);
    await waitFor(async () => (await adminGet(server, '/admin/v1/audit?type=daemon.started')).text.includes('daemon.started'), 30_000);

    // Its managed state (which keys IT sets, from which file, a fingerprint) reached the fleet.
    await waitFor(async () => ((await adminGet(server, `/admin/v1/devices/${status.fleet?.deviceId}`)).body?.device as { managed?: unknown } | undefined)?.managed != null, 30_000);
    const reported = (await adminGet(server, `/admin/v1/devices/${status.fleet?.deviceId}`)).body?.device as { managed: { enforced: string[]; defaults: string[]; source: string; fingerprint: string; problems: number } | null; agentVersion: string };
    assert.ok(reported.managed, 'managed state reported');
    // syncIntervalSeconds: 10 is below the schema's minimum (30): the device refused it and says so.
    assert.deepEqual([...reported.managed.enforced].sort(), ['enrollSecret', 'fleetServerUrl']);
    assert.deepEqual(reported.managed.defaults, []);
    assert.equal(reported.managed.source, managed);
    assert.match(reported.managed.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(reported.managed.problems, 1);
    assert.ok(!JSON.stringify(reported).includes(server.enrollSecret), 'the enroll secret never leaves the device');
    assert.match(reported.agentVersion, /^\d+\.\d+\.\d+/);

    // IT's file disappears: the daemon notices and records it.
    rmSync(managed);
    await waitFor(async () => ([...(await client.call('events', { limit: 100 }))] as CordonEvent[]).some((e) => e.type === 'settings.changed' && /fleetServerUrl/.test(e.summary)), 15_000);
    client.close();
  } finally {
    await daemon.cleanup();
    await server.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
});

test('an approval prompt says what the rest of the fleet did with the destination', async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const server = await startTestServer(location, { cleanup });
  const origin = createServer((_req, res) => res.end('asked origin'));
  const port = await new Promise<number>((resolve) => origin.listen(0, '127.0.0.1', () => resolve((origin.address() as AddressInfo).port)));
  // Three other laptops: two reached 127.0.0.1 and were allowed, one was blocked.
  for (const [i, action] of (['allow', 'allow', 'deny'] as const).entries()) {
    const other = await enrollTestDevice(server, { hostname: `peer-${i}`, platform: 'linux', user: 'dev', agentVersion: '0.1.0' });
    const local = tempDb();
    const log = createAuditLog(local.db, { headFile: null });
    log.appendBatch([decisionInput({ action, request: { host: '127.0.0.1', port } })]);
    const posted = await other.call('POST', '/v1/events', { after: 0, events: log.query({ order: 'asc', limit: 10 }) });
    assert.equal(posted.status, 200, await posted.text());
    local.cleanup();
  }
  const home = mkdtempSync(join(tmpdir(), 'cordon-fleet-home-'));
  const cordonHome = mkdtempSync(join(tmpdir(), 'cordon-fleet-'));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', approvalTimeoutSeconds: 30, fleetServerUrl: server.url, enrollSecret: server.enrollSecret }));
  writeFileSync(join(cordonHome, 'config', 'policy.yaml'), ['version: 1', 'rules:', '  - id: ask-origin', '    action: ask', '    ips: [127.0.0.1]', `    ports: [${port}]`, ''].join('\n'));
  const daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-fleetctx-${process.pid}` } });
  try {
    const client = await daemon.connect();
    await waitFor(async () => (await client.call('status', {})).fleet?.deviceId != null, 30_000, () => daemon.output().slice(-3000));
    const proxy = (await client.call('status', {})).proxy;
    assert.ok(proxy, 'the proxy runs');
    const response = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, method: 'GET', path: `http://127.0.0.1:${port}/`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(async () => (await client.call('approvals', {})).length > 0, 20_000, () => daemon.output().slice(-3000));
    const [approval] = await client.call('approvals', {});
    assert.deepEqual(approval?.fleet, { host: '127.0.0.1', days: 30, devicesAllowed: 2, devicesDenied: 1 });
    await client.call('answerApproval', { id: approval?.id ?? '', answer: 'deny' });
    assert.equal(await response, 403);
    client.close();
  } finally {
    await daemon.cleanup();
    await server.close();
    origin.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
});
