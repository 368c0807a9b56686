// Runs the whole test suite with node:test, against real local services:
// - a private D-Bus session with an unlocked gnome-keyring (the Secret Service the KeyStore uses),
//   started here when the caller has none, with its keyring files in a throwaway directory;
// Usage: node scripts/run-tests.ts [test files or globs...]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const DEFAULT_GLOBS = ['test/**/*.test.ts'];

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<number> {
  if (process.env.CORDON_TEST_IN_SESSION !== '1') {
    if (!has('dbus-run-session') || !has('gnome-keyring-daemon')) {
      process.stderr.write('run-tests: dbus-run-session and gnome-keyring-daemon are needed (apt-get install dbus gnome-keyring); .ci/run installs them\n');
      return 1;
    }
    const child = spawn('dbus-run-session', ['--', process.execPath, self, ...args], {
      stdio: 'inherit',
      env: { ...process.env, CORDON_TEST_IN_SESSION: '1' },
    });
    return await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  }
  const keyringHome = mkdtempSync(join(tmpdir(), 'cordon-keyring-'));
  try {
    // gnome-keyring creates the default "login" collection unlocked with the password on stdin.
    const unlock = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
      input: 'cordon-test',
      env: { ...process.env, XDG_DATA_HOME: keyringHome },
      encoding: 'utf8',
    });
    if (unlock.status !== 0) {
      process.stderr.write(`run-tests: gnome-keyring-daemon failed: ${unlock.stderr}\n`);
      return 1;
    }
    for (const line of unlock.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const files = args.length > 0 ? args : DEFAULT_GLOBS;
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
      stdio: 'inherit',
      env: { ...process.env, CORDON_TEST_KEYRING: '1' },
    });
    return await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    rmSync(keyringHome, { recursive: true, force: true });
  }
}

process.exitCode = await main();
