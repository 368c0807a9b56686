// The `cordon service` verbs: exit codes, human and JSON output, path checks, and the real runner.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../../app/api/errors.ts';
import { createServiceCommands, serviceCommands, type ServiceCommandDeps } from '../../app/cli/commands/service.ts';
import type { Command } from '../../app/cli/command.ts';
import { systemdUserUnit } from '../../app/service/definitions.ts';
import { runCommand } from '../../app/service/runner.ts';
import type { ServiceOutcome, ServiceStatusReport } from '../../app/service/types.ts';
import { args, context, fakeRunner, tempHome, type FakeRunner } from './helpers.ts';

const CORDON_JS = fileURLToPath(new URL('../../bin/cordon.js', import.meta.url));
const REAL_TARGET = { nodePath: process.execPath, cordonPath: CORDON_JS };

function commands(run: FakeRunner, overrides: Partial<ServiceCommandDeps> = {}): Record<'install' | 'uninstall' | 'status', Command> {
  const deps: ServiceCommandDeps = { platform: 'linux', run, uid: () => 1000, username: () => 'alice', defaultTarget: () => REAL_TARGET, checkTargetExists: true, ...overrides };
  const [install, uninstall, status] = createServiceCommands(deps);
  assert.ok(install && uninstall && status);
  return { install, uninstall, status };
}

describe('cordon service', () => {
  it('exports the three verbs for the CLI', () => {
    assert.deepEqual(
      serviceCommands.map((c) => c.name),
      ['service install', 'service uninstall', 'service status'],
    );
  });

  it('install without a systemd user session writes the unit, exits 1 and explains how to start the daemon', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner(() => ({ exitCode: 1, stderr: 'Failed to connect to bus: No medium found' }));
      const ctx = context(t.env, t.home);
      const code = await commands(run).install.run(ctx, args());
      assert.equal(code, 1);
      const file = join(t.home, '.config', 'systemd', 'user', 'cordon-daemon.service');
      assert.equal(await readFile(file, 'utf8'), systemdUserUnit(REAL_TARGET));
      const err = ctx.err.text();
      assert.match(err, /wrote .*cordon-daemon\.service, but could not register it with systemd/);
      assert.match(err, /\[FAILED\] systemctl --user daemon-reload: Failed to connect to bus/);
      assert.match(err, /hint: start the daemon yourself/);
      assert.equal(ctx.out.text(), '');
    } finally {
      await t.cleanup();
    }
  });

  it('install, status and uninstall exit 0 when systemd takes the unit; --json prints the outcome', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner((argv) => (argv.includes('is-enabled') ? { stdout: 'enabled\n' } : argv.includes('is-active') ? { stdout: 'active\n' } : {}));
      const verbs = commands(run);
      const ctx = context(t.env, t.home);
      assert.equal(await verbs.install.run(ctx, args({ json: true })), 0);
      const outcome = JSON.parse(ctx.out.text()) as ServiceOutcome;
      assert.equal(outcome.ok, true);
      assert.equal(outcome.location.name, 'cordon-daemon.service');
      const statusCtx = context(t.env, t.home);
      assert.equal(await verbs.status.run(statusCtx, args({ json: true })), 0);
      const status = JSON.parse(statusCtx.out.text()) as ServiceStatusReport;
      assert.deepEqual([status.installed, status.upToDate, status.registered, status.active], [true, true, true, true]);
      const removeCtx = context(t.env, t.home);
      assert.equal(await verbs.uninstall.run(removeCtx, args()), 0);
      assert.match(removeCtx.out.text(), /removed .*cordon-daemon\.service/);
      assert.equal(await verbs.status.run(context(t.env, t.home), args()), 1);
    } finally {
      await t.cleanup();
    }
  });

  it('--dry-run prints the unit and the commands and changes nothing', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner();
      const ctx = context(t.env, t.home);
      assert.equal(await commands(run).install.run(ctx, args({ 'dry-run': true })), 0);
      assert.ok(ctx.out.text().includes(systemdUserUnit(REAL_TARGET)));
      assert.match(ctx.out.text(), /\[-\] systemctl --user enable --now cordon-daemon\.service: dry run: not run/);
      assert.deepEqual(run.calls, []);
      await assert.rejects(readFile(join(t.home, '.config', 'systemd', 'user', 'cordon-daemon.service')), { code: 'ENOENT' });
    } finally {
      await t.cleanup();
    }
  });

  it('refuses a node or cordon path that does not exist, before writing anything', async () => {
    const t = await tempHome();
    try {
      const run = fakeRunner();
      const missing = join(t.home, 'no-such-node');
      await assert.rejects(commands(run).install.run(context(t.env, t.home), args({ node: missing })), (e: unknown) => e instanceof CoreError && e.code === 'ERR_NOT_FOUND' && e.message.includes(missing));
      await assert.rejects(commands(run).install.run(context(t.env, t.home), args({ cordon: 'relative/cordon.js' })), (e: unknown) => e instanceof CoreError && e.message.includes(join(t.home, 'relative', 'cordon.js')));
      assert.deepEqual(run.calls, []);
    } finally {
      await t.cleanup();
    }
  });

  it('refuses platforms without a service manager', async () => {
    const t = await tempHome();
    try {
      await assert.rejects(commands(fakeRunner(), { platform: 'freebsd' }).status.run(context(t.env, t.home), args()), (e: unknown) => e instanceof CoreError && e.code === 'ERR_BAD_REQUEST');
    } finally {
      await t.cleanup();
    }
  });
});

describe('the real command runner', () => {
  it('returns exit code and output, and a missing program as a value, never a throw', async () => {
    const ok = await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(ok, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    const missing = await runCommand('/nonexistent/program', []);
    assert.equal(missing.exitCode, null);
    assert.match(missing.spawnError ?? '', /ENOENT/);
  });
});
