// A fresh daemon whose managed settings name a fleet server and an enroll secret enrolls on its
// first start with no user action, applies the fleet policy, and its audit events reach the
// server; removing the managed file is noticed and recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CordonEvent } from '../../app/api/control.ts';
import { startDaemonProcess, waitFor } from '../helpers/daemonProcess.ts';
import { adminGet, adminSend, freshLocation, startTestServer } from '../server/helpers.ts';

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
