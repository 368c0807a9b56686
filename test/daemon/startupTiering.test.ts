// The daemon starts without V8's optimizing compilers and turns them on once start-up is over
// (app/daemon/startupTiering.ts): checked on V8 itself (--trace-opt says what it optimizes) and on
// a real `cordon daemon` started through bin/cordon.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseStartupTiering, STARTUP_TIERING_ENV, STARTUP_TIERING_FLAG } from '../../app/daemon/startupTiering.ts';
import { startDaemonProcess, waitFor } from '../helpers/daemonProcess.ts';

const MODULE_URL = new URL('../../app/daemon/startupTiering.ts', import.meta.url).href;

test('the hold is lifted only when the launcher marked its own flag, and the mark never reaches a child', () => {
  const unmarked: NodeJS.ProcessEnv = {};
  assert.equal(releaseStartupTiering(unmarked, [STARTUP_TIERING_FLAG]), false, 'a --max-opt the user gave stays');
  const flagMissing: NodeJS.ProcessEnv = { [STARTUP_TIERING_ENV]: STARTUP_TIERING_FLAG };
  assert.equal(releaseStartupTiering(flagMissing, ['--expose-gc']), false, 'a mark without the flag in effect changes nothing');
  assert.equal(flagMissing[STARTUP_TIERING_ENV], undefined);
  const otherValue: NodeJS.ProcessEnv = { [STARTUP_TIERING_ENV]: '--max-opt=0' };
  assert.equal(releaseStartupTiering(otherValue, ['--max-opt=0']), false, 'only the launcher flag is lifted');
  assert.equal(otherValue[STARTUP_TIERING_ENV], undefined);
});

/** Runs a hot function under --max-opt=1, releases (or not), runs it again; returns what V8 optimized in each phase. */
function phases(marked: boolean): { before: string; after: string } {
  const script = [
    `const { releaseStartupTiering } = await import(${JSON.stringify(MODULE_URL)});`,
    'function hot(a) { let s = 0; for (let i = 0; i < 100; i++) s += (a * i) % 7; return s; }',
    'let t = 0;',
    'for (let i = 0; i < 200000; i++) t += hot(i);',
    "console.log('PHASE released=' + releaseStartupTiering());",
    'for (let i = 0; i < 200000; i++) t += hot(i);',
    "console.log('DONE ' + t);",
  ].join('\n');
  const env = { PATH: process.env.PATH, ...(marked ? { [STARTUP_TIERING_ENV]: STARTUP_TIERING_FLAG } : {}) };
  const run = spawnSync(process.execPath, [STARTUP_TIERING_FLAG, '--trace-opt', '--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  const [before = '', after = ''] = run.stdout.split(/^PHASE .*$/m);
  assert.match(run.stdout, new RegExp(`^PHASE released=${marked}$`, 'm'));
  assert.match(after, /^DONE \d+$/m);
  return { before, after };
}

test('with the hold V8 optimizes nothing; once released, hot code reaches Maglev and TurboFan', () => {
  const held = phases(true);
  assert.doesNotMatch(held.before, /JSFunction hot .*target (MAGLEV|TURBOFAN)/, held.before);
  assert.match(held.after, /completed optimizing .*JSFunction hot .*TURBOFAN/, held.after);
  const kept = phases(false);
  assert.doesNotMatch(kept.after, /JSFunction hot .*target (MAGLEV|TURBOFAN)/, 'without the mark the flag stays in force');
});

test('cordon daemon starts with the hold and lifts it once start-up is over; CORDON_DAEMON_NODE_FLAGS replaces both', { skip: process.platform !== 'linux' }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'cordon-tiering-home-'));
  const lifted = 'start-up over: optimizing compilers on';
  try {
    const daemon = await startDaemonProcess({ home });
    try {
      const pid = daemon.child.pid ?? 0;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(STARTUP_TIERING_FLAG) && argv.includes('--expose-gc'), argv.join(' '));
      await waitFor(() => daemon.output().includes(lifted), 15_000, () => daemon.output());
    } finally {
      await daemon.cleanup();
    }
    const chosen = await startDaemonProcess({ home, env: { CORDON_DAEMON_NODE_FLAGS: `--expose-gc ${STARTUP_TIERING_FLAG}` } });
    try {
      const client = await chosen.connect();
      try {
        await waitFor(async () => (await client.call('status')).uptimeSeconds >= 5, 15_000);
      } finally {
        client.close();
      }
      const argv = readFileSync(`/proc/${chosen.child.pid ?? 0}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(STARTUP_TIERING_FLAG), argv.join(' '));
      assert.ok(!chosen.output().includes(lifted), 'a flag the user chose is never lifted');
    } finally {
      await chosen.cleanup();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
