// install / uninstall / status on each platform, run on Linux with a recording runner: the files
// written under a temp HOME and the exact service-manager commands.
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { parse as parsePlist } from 'plist';
import { launchAgentPlist, scheduledTaskXml, systemdUserUnit } from '../../app/service/definitions.ts';
import { installService, serviceStatus, uninstallService } from '../../app/service/manager.ts';
import type { ServiceHost, ServicePlatform } from '../../app/service/types.ts';
import { decodeUtf16le } from '../../app/service/xml.ts';
import { fakeRunner, tempHome, type FakeRunner } from './helpers.ts';

const POSIX_TARGET = { nodePath: '/opt/node/bin/node', cordonPath: '/opt/cordon/bin/cordon.js' };
const WIN_TARGET = { nodePath: 'C:\\Program Files\\nodejs\\node.exe', cordonPath: 'C:\\Users\\alice\\cordon\\bin\\cordon.js' };
const NO_BUS = { exitCode: 1, stderr: 'Failed to connect to bus: No medium found' };
const SCHTASKS = 'C:\\Windows\\System32\\schtasks.exe';

function host(platform: ServicePlatform, env: NodeJS.ProcessEnv, run: FakeRunner): ServiceHost {
  return { platform, env, run, uid: 501, username: 'alice' };
}

describe('systemd (Linux)', () => {
  it('install writes the unit under XDG_CONFIG_HOME, reloads and enables it', async () => {
    const t = await tempHome();
    try {
      const env = { ...t.env, XDG_CONFIG_HOME: join(t.home, 'xdg') };
      const run = fakeRunner();
      const outcome = await installService(host('linux', env, run), POSIX_TARGET);
      const file = join(t.home, 'xdg', 'systemd', 'user', 'cordon-daemon.service');
      assert.equal(outcome.ok, true);
      assert.equal(outcome.location.file, file);
      assert.equal(await readFile(file, 'utf8'), systemdUserUnit(POSIX_TARGET));
      assert.deepEqual(run.calls, [
        ['systemctl', '--user', 'daemon-reload'],
        ['systemctl', '--user', 'enable', '--now', 'cordon-daemon.service'],
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it('without a user manager the unit is still written, the outcome fails and says what to do', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv.includes('daemon-reload') ? NO_BUS : {}));
      const outcome = await installService(host('linux', t.env, run), POSIX_TARGET);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.fileChanged, true);
      assert.equal(await readFile(join(t.home, '.config', 'systemd', 'user', 'cordon-daemon.service'), 'utf8'), systemdUserUnit(POSIX_TARGET));
      assert.deepEqual(run.calls, [['systemctl', '--user', 'daemon-reload']]);
      assert.match(outcome.message, /could not register it with systemd: the service manager is not available \(Failed to connect to bus/);
      assert.match(outcome.hint ?? '', /\/opt\/node\/bin\/node \/opt\/cordon\/bin\/cordon\.js daemon/);
    } finally {
      await t.cleanup();
    }
  });

  it('status reports up to date and running, then drift after an edit', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv.includes('is-enabled') ? { stdout: 'enabled\n' } : argv.includes('is-active') ? { stdout: 'active\n' } : {}));
      await installService(host('linux', t.env, run), POSIX_TARGET);
      const fine = await serviceStatus(host('linux', t.env, run), POSIX_TARGET);
      assert.deepEqual([fine.installed, fine.upToDate, fine.registered, fine.active], [true, true, true, true]);
      await writeFile(fine.location.file, `${systemdUserUnit(POSIX_TARGET)}Environment=EXTRA=1\n`);
      const drifted = await serviceStatus(host('linux', t.env, run), POSIX_TARGET);
      assert.equal(drifted.upToDate, false);
      assert.match(drifted.message, /differs from what install would write/);
      const otherTarget = await serviceStatus(host('linux', t.env, run), { ...POSIX_TARGET, nodePath: '/usr/bin/node' });
      assert.equal(otherTarget.upToDate, false);
    } finally {
      await t.cleanup();
    }
  });

  it('status without a user manager says it cannot ask, instead of guessing', async () => {
    const t = await tempHome();
    try {
      const status = await serviceStatus(host('linux', t.env, fakeRunner(() => NO_BUS)), POSIX_TARGET);
      assert.deepEqual([status.installed, status.upToDate, status.registered, status.active], [false, null, null, null]);
    } finally {
      await t.cleanup();
    }
  });

  it('uninstall disables, removes only the unit file, reloads; a second uninstall changes nothing', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv.includes('is-enabled') ? { exitCode: 1, stdout: 'not-found\n' } : argv.includes('is-active') ? { exitCode: 3, stdout: 'inactive\n' } : {}));
      await installService(host('linux', t.env, run), POSIX_TARGET);
      const dir = join(t.home, '.config', 'systemd', 'user');
      await writeFile(join(dir, 'someone-else.service'), '[Service]\n');
      run.calls.length = 0;
      const outcome = await uninstallService(host('linux', t.env, run));
      assert.equal(outcome.ok, true);
      assert.equal(outcome.fileChanged, true);
      assert.deepEqual(run.calls, [
        ['systemctl', '--user', 'disable', '--now', 'cordon-daemon.service'],
        ['systemctl', '--user', 'daemon-reload'],
      ]);
      assert.deepEqual(await readdir(dir), ['someone-else.service']);
      run.calls.length = 0;
      const again = await uninstallService(host('linux', t.env, run));
      assert.equal(again.ok, true);
      assert.equal(again.fileChanged, false);
      assert.match(again.message, /not installed/);
      assert.deepEqual(run.calls.map((c) => c[2]), ['is-enabled', 'is-active']);
    } finally {
      await t.cleanup();
    }
  });

  it('a dry run writes nothing and runs nothing that changes state', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner();
      const outcome = await installService(host('linux', t.env, run), POSIX_TARGET, { dryRun: true });
      assert.equal(outcome.ok, true);
      assert.equal(outcome.content, systemdUserUnit(POSIX_TARGET));
      assert.deepEqual(run.calls, []);
      assert.deepEqual(outcome.steps.map((s) => s.command.slice(2)), [['daemon-reload'], ['enable', '--now', 'cordon-daemon.service']]);
      await assert.rejects(stat(outcome.location.file), { code: 'ENOENT' });
    } finally {
      await t.cleanup();
    }
  });
});

describe('launchd (macOS)', () => {
  it('install writes the LaunchAgent and bootstraps it into gui/<uid>', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv[1] === 'print' ? { exitCode: 113, stderr: 'Could not find service' } : {}));
      const outcome = await installService(host('darwin', t.env, run), POSIX_TARGET);
      const file = join(t.home, 'Library', 'LaunchAgents', 'dev.cordon.agent.daemon.plist');
      assert.equal(outcome.ok, true);
      const text = await readFile(file, 'utf8');
      assert.equal(text, launchAgentPlist(POSIX_TARGET, { logPath: join(t.home, 'Library', 'Logs', 'cordon-daemon.log') }));
      assert.deepEqual((parsePlist(text) as { ProgramArguments: string[] }).ProgramArguments, [POSIX_TARGET.nodePath, POSIX_TARGET.cordonPath, 'daemon']);
      assert.deepEqual(run.calls, [
        ['/bin/launchctl', 'print', 'gui/501/dev.cordon.agent.daemon'],
        ['/bin/launchctl', 'bootstrap', 'gui/501', file],
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it('reinstalling boots the loaded definition out first; status reads launchctl print', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv[1] === 'print' ? { stdout: 'gui/501/dev.cordon.agent.daemon = {\n\tstate = running\n}\n' } : {}));
      await installService(host('darwin', t.env, run), POSIX_TARGET);
      assert.deepEqual(run.calls.map((c) => c[1]), ['print', 'bootout', 'bootstrap']);
      const status = await serviceStatus(host('darwin', t.env, run), POSIX_TARGET);
      assert.deepEqual([status.installed, status.upToDate, status.registered, status.active], [true, true, true, true]);
    } finally {
      await t.cleanup();
    }
  });

  it('uninstall boots out and removes the plist; the Logs directory is left alone', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner();
      await installService(host('darwin', t.env, run), POSIX_TARGET);
      await mkdir(join(t.home, 'Library', 'Logs'), { recursive: true });
      run.calls.length = 0;
      const outcome = await uninstallService(host('darwin', t.env, run));
      assert.equal(outcome.ok, true);
      assert.deepEqual(run.calls, [
        ['/bin/launchctl', 'print', 'gui/501/dev.cordon.agent.daemon'],
        ['/bin/launchctl', 'bootout', 'gui/501/dev.cordon.agent.daemon'],
      ]);
      assert.deepEqual(await readdir(join(t.home, 'Library', 'LaunchAgents')), []);
      assert.ok((await stat(join(t.home, 'Library', 'Logs'))).isDirectory());
    } finally {
      await t.cleanup();
    }
  });
});

describe('Task Scheduler (Windows)', () => {
  it('install writes UTF-16 task XML for this user and registers and runs the task', async () => {
    const t = await tempHome();
    try {
      const env = { ...t.env, LOCALAPPDATA: join(t.home, 'AppData', 'Local'), USERDOMAIN: 'CORP' };
      const run = fakeRunner();
      const outcome = await installService(host('win32', env, run), WIN_TARGET);
      const file = join(t.home, 'AppData', 'Local', 'Cordon', 'service', 'cordon-daemon.task.xml');
      assert.equal(outcome.ok, true);
      const bytes = await readFile(file);
      assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xfe]);
      const xml = decodeUtf16le(bytes);
      assert.equal(xml, scheduledTaskXml(WIN_TARGET, { kind: 'user', userId: 'CORP\\alice' }));
      assert.equal(XMLValidator.validate(xml), true);
      assert.deepEqual(run.calls, [
        [SCHTASKS, '/Create', '/TN', 'CordonDaemon-alice', '/XML', file, '/F'],
        [SCHTASKS, '/Run', '/TN', 'CordonDaemon-alice'],
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it('status parses the task state; uninstall ends and deletes the task and removes the XML', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv.includes('/FO') ? { stdout: '"\\CordonDaemon-alice","N/A","Running"\r\n' } : {}));
      await installService(host('win32', t.env, run), WIN_TARGET);
      const status = await serviceStatus(host('win32', t.env, run), WIN_TARGET);
      assert.deepEqual([status.installed, status.upToDate, status.registered, status.active], [true, true, true, true]);
      run.calls.length = 0;
      const outcome = await uninstallService(host('win32', t.env, run));
      assert.equal(outcome.ok, true);
      assert.deepEqual(run.calls, [
        [SCHTASKS, '/Query', '/TN', 'CordonDaemon-alice'],
        [SCHTASKS, '/End', '/TN', 'CordonDaemon-alice'],
        [SCHTASKS, '/Delete', '/TN', 'CordonDaemon-alice', '/F'],
      ]);
      await assert.rejects(stat(outcome.location.file), { code: 'ENOENT' });
    } finally {
      await t.cleanup();
    }
  });

  it('a refused registration is a failed outcome with the first line of schtasks output', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv[1] === '/Create' ? { exitCode: 1, stderr: 'ERROR: Access is denied.\r\n' } : {}));
      const outcome = await installService(host('win32', t.env, run), WIN_TARGET);
      assert.equal(outcome.ok, false);
      assert.match(outcome.message, /it refused \(ERROR: Access is denied\.\)/);
      assert.equal(run.calls.length, 1);
    } finally {
      await t.cleanup();
    }
  });
});
