// Tamper evidence of the daemon's lifecycle, on real daemon processes: killed (SIGKILL) or its
// marker deleted -> daemon.unclean-stop at the next start; `cordon stop` while a service is
// installed -> daemon.stopped-outside-service; a plain clean stop -> nothing. Plus how a stop is
// classified under systemd and launchd, and the events' OCSF and outbox classes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CordonEvent } from '../../app/api/control.ts';
import type { AuditEvent } from '../../app/api/audit.ts';
import { toOcsf } from '../../app/audit/ocsf.ts';
import { CONTROL_API_STOP_REASON, describeStop, previousRunEvents, STOPPED_OUTSIDE_SERVICE_EVENT, UNCLEAN_STOP_EVENT } from '../../app/daemon/lifecycle.ts';
import { openDatabase } from '../../app/store/database.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { severityOf } from '../../app/sync/outbox.ts';
import { startDaemonProcess, type DaemonHandle } from '../helpers/daemonProcess.ts';
import { fakeRunner } from '../service/helpers.ts';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

async function eventsOf(daemon: DaemonHandle, types: string[]): Promise<CordonEvent[]> {
  const client = await daemon.connect();
  try {
    return [...(await client.call('events', { types, limit: 100 }))].reverse();
  } finally {
    client.close();
  }
}

function marker(daemon: DaemonHandle): Record<string, unknown> {
  return JSON.parse(readFileSync(join(daemon.paths.dataDir, 'daemon-lifecycle.json'), 'utf8')) as Record<string, unknown>;
}

describe('the daemon lifecycle on real processes', () => {
  it('a killed daemon (and a deleted marker) is recorded as an unclean stop at the next start; a clean stop is not', async () => {
    const home = temp('cordon-lifecycle-home-');
    const cordonHome = temp('cordon-lifecycle-cordon-');
    const first = await startDaemonProcess({ home, cordonHome });
    assert.equal(marker(first).state, 'running');
    const firstPid = first.child.pid;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startDaemonProcess({ home, cordonHome });
    try {
      const [unclean, ...more] = await eventsOf(second, [UNCLEAN_STOP_EVENT]);
      assert.equal(more.length, 0);
      const data = unclean!.data as Record<string, unknown>;
      assert.equal(data.severity, 'high');
      assert.equal(data.previousPid, firstPid);
      assert.equal(data.marker, 'running');
      assert.equal(typeof data.downtimeSeconds, 'number');
      assert.ok((data.downtimeSeconds as number) >= 0 && (data.downtimeSeconds as number) < 120);
      assert.match(unclean!.summary, new RegExp(`previous daemon \\(pid ${firstPid}\\) stopped uncleanly`));
      // It is recorded before this run's daemon.started.
      const [started] = (await eventsOf(second, ['daemon.started'])).slice(-1);
      assert.ok(unclean!.seq < started!.seq);

      // Killed again, and the marker deleted to hide it: the trail still tells.
      second.child.kill('SIGKILL');
      await second.exited;
      rmSync(join(second.paths.dataDir, 'daemon-lifecycle.json'));
    } finally {
      await second.cleanup();
    }

    const third = await startDaemonProcess({ home, cordonHome });
    const uncleans = await eventsOf(third, [UNCLEAN_STOP_EVENT]);
    assert.equal(uncleans.length, 2);
    assert.equal((uncleans[1]!.data as Record<string, unknown>).marker, 'missing');
    assert.equal((uncleans[1]!.data as Record<string, unknown>).previousPid, second.child.pid);

    // A clean stop by a signal, with no service installed: recorded how, and nothing at the next start.
    third.child.kill('SIGTERM');
    assert.deepEqual(await third.exited, { code: 0, signal: null });
    const stopped = marker(third);
    assert.equal(stopped.state, 'stopped');
    const stop = stopped.stop as Record<string, unknown>;
    assert.equal(stop.how, 'signal');
    assert.equal(stop.signal, 'SIGTERM');
    assert.equal(stop.byServiceManager, false);
    assert.equal(stop.serviceInstalled, false);

    const fourth = await startDaemonProcess({ home, cordonHome });
    try {
      assert.equal((await eventsOf(fourth, [UNCLEAN_STOP_EVENT])).length, 2);
      assert.equal((await eventsOf(fourth, [STOPPED_OUTSIDE_SERVICE_EVENT])).length, 0);
      const [lastStop] = (await eventsOf(fourth, ['daemon.stopped'])).slice(-1);
      assert.equal((lastStop!.data as Record<string, unknown>).how, 'signal');
    } finally {
      await fourth.cleanup();
    }
  });

  it("'cordon stop' while the service is installed is recorded as a stop outside the service manager", async () => {
    const home = temp('cordon-lifecycle-home-');
    const cordonHome = temp('cordon-lifecycle-cordon-');
    const config = temp('cordon-lifecycle-xdg-');
    // What `cordon service install` writes on Linux, under this test's XDG_CONFIG_HOME.
    mkdirSync(join(config, 'systemd', 'user'), { recursive: true });
    writeFileSync(join(config, 'systemd', 'user', 'cordon-daemon.service'), '[Service]\nExecStart=/bin/true\n');
    const env = { XDG_CONFIG_HOME: config };

    const first = await startDaemonProcess({ home, cordonHome, env });
    const client = await first.connect();
    await client.call('shutdown');
    client.close();
    assert.equal((await first.exited).code, 0);
    assert.equal((marker(first).stop as Record<string, unknown>).how, 'control-api');

    const second = await startDaemonProcess({ home, cordonHome, env });
    try {
      const [outside, ...more] = await eventsOf(second, [STOPPED_OUTSIDE_SERVICE_EVENT]);
      assert.equal(more.length, 0);
      const data = outside!.data as Record<string, unknown>;
      assert.equal(data.severity, 'high');
      assert.equal(data.how, 'control-api');
      assert.equal(data.serviceInstalled, true);
      assert.equal(data.byServiceManager, false);
      assert.equal(data.previousPid, first.child.pid);
      assert.match(outside!.summary, /stopped outside its service manager over the control API/);
      assert.equal((await eventsOf(second, [UNCLEAN_STOP_EVENT])).length, 0);
      const [stopped] = await eventsOf(second, ['daemon.stopped']);
      assert.equal((stopped!.data as Record<string, unknown>).reason, CONTROL_API_STOP_REASON);
    } finally {
      await second.cleanup();
    }
  });
});

describe('how a stop is classified', () => {
  const installed = async (): Promise<boolean> => true;

  it('under systemd: ActiveState=deactivating means the manager stopped it; any other state means someone else did', async () => {
    const deactivating = fakeRunner(() => ({ stdout: 'deactivating\n' }));
    const byManager = await describeStop('SIGTERM', { env: { INVOCATION_ID: 'x' }, platform: 'linux', manager: 'systemd', run: deactivating, serviceInstalled: installed });
    assert.equal(byManager.byServiceManager, true);
    assert.deepEqual(deactivating.calls[0]!.slice(0, 1), ['systemctl']);
    assert.deepEqual(deactivating.calls[0]!.slice(-5, -1), ['show', '-p', 'ActiveState', '--value']);

    const active = await describeStop('SIGTERM', { env: {}, platform: 'linux', manager: 'systemd', run: fakeRunner(() => ({ stdout: 'active\n' })), serviceInstalled: installed });
    assert.equal(active.byServiceManager, false);
    assert.match(active.detail, /unit was active when the signal came/);

    const unreachable = await describeStop('SIGTERM', { env: {}, platform: 'linux', manager: 'systemd', run: fakeRunner(() => ({ exitCode: 1, stderr: 'Failed to connect to bus' })), serviceInstalled: installed });
    assert.equal(unreachable.byServiceManager, null);

    const control = await describeStop(CONTROL_API_STOP_REASON, { env: {}, platform: 'linux', manager: 'systemd', run: deactivating, serviceInstalled: installed });
    assert.equal(control.how, 'control-api');
    assert.equal(control.byServiceManager, false);
  });

  it('under launchd who sent SIGTERM cannot be known; on Windows a signal is a console Ctrl+C', async () => {
    const launchd = await describeStop('SIGTERM', { env: {}, platform: 'darwin', manager: 'launchd', serviceInstalled: installed });
    assert.equal(launchd.byServiceManager, null);
    const windows = await describeStop('SIGINT', { env: {}, platform: 'win32', manager: null, serviceInstalled: installed });
    assert.equal(windows.byServiceManager, false);
    assert.match(windows.detail, /Task Scheduler ends the daemon without one/);
  });

  it('an unknown marker with no daemon in the trail is a first run, not an unclean stop', () => {
    const db = openDatabase(':memory:');
    try {
      const store = createEventStore(db);
      assert.deepEqual(previousRunEvents('missing', store, new Date()), []);
      store.append('daemon.started', 'daemon started', { pid: 4242 });
      store.append('daemon.stopped', 'daemon stopped', { pid: 4242 });
      assert.deepEqual(previousRunEvents('unreadable', store, new Date()), []);
      store.append('daemon.started', 'daemon started', { pid: 4343 });
      const [event] = previousRunEvents('unreadable', store, new Date());
      assert.equal(event?.type, UNCLEAN_STOP_EVENT);
      assert.equal(event?.data.previousPid, 4343);
    } finally {
      db.close();
    }
  });
});

describe('the new events downstream', () => {
  it('map to OCSF Application Lifecycle with their severity, and are never dropped first from the outbox', () => {
    const event = (type: string, data: unknown): AuditEvent => ({
      seq: 1, id: 'e1', time: '2026-01-01T00:00:00.000Z', type, subjectId: null, summary: type, data,
      agent: null, agentKind: null, decision: null, rule: null, destination: null, bytesUp: null, bytesDown: null, keyThumbprint: null, prevHash: 'p', hash: 'h',
    });
    const ctx = { productVersion: '1.0.0', hostname: 'box' };
    const unclean = toOcsf(event(UNCLEAN_STOP_EVENT, { severity: 'high' }), ctx);
    assert.equal(unclean.class_uid, 6002);
    assert.equal(unclean.activity_id, 4);
    assert.equal(unclean.severity_id, 4);
    assert.equal(unclean.type_uid, 600204);
    assert.equal(toOcsf(event(STOPPED_OUTSIDE_SERVICE_EVENT, { severity: 'high' }), ctx).severity_id, 4);
    const removed = toOcsf(event('cordon.uninstalled', { severity: 'medium' }), ctx);
    assert.equal(removed.activity_id, 2);
    assert.equal(removed.severity_id, 3);
    assert.equal(severityOf({ type: UNCLEAN_STOP_EVENT, decision: null }), 1);
    assert.equal(severityOf({ type: STOPPED_OUTSIDE_SERVICE_EVENT, decision: null }), 1);
    assert.equal(severityOf({ type: 'daemon.started', decision: null }), 0);
  });
});
