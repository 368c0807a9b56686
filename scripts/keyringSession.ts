// Runs a command inside a private D-Bus session with an unlocked gnome-keyring, so code that uses
// the OS keychain (the Secret Service on Linux) talks to a real one. The keyring's files live in a
// throwaway directory: the developer's own keyring is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MARK = 'CORDON_KEYRING_SESSION';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/**
 * Re-runs `script` under dbus-run-session (once), starts gnome-keyring inside, then runs
 * `command` with the keyring's environment. Returns the command's exit code.
 */
export async function inKeyringSession(script: string, scriptArgs: string[], command: string, commandArgs: string[]): Promise<number> {
  if (process.env[MARK] !== '1') {
    if (!has('dbus-run-session') || !has('gnome-keyring-daemon')) {
      process.stderr.write('cordon: dbus-run-session and gnome-keyring-daemon are needed (apt-get install dbus gnome-keyring); .ci/run installs them\n');
      return 1;
    }
    return run('dbus-run-session', ['--', process.execPath, script, ...scriptArgs], { ...process.env, [MARK]: '1' });
  }
  const keyringHome = mkdtempSync(join(tmpdir(), 'cordon-keyring-'));
  try {
    // gnome-keyring creates the default "login" collection, unlocked with the password on stdin.
    const unlock = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
      input: 'cordon-test',
      env: { ...process.env, XDG_DATA_HOME: keyringHome },
      encoding: 'utf8',
    });
    if (unlock.status !== 0) {
      process.stderr.write(`cordon: gnome-keyring-daemon failed: ${unlock.stderr}\n`);
      return 1;
    }
    const env: NodeJS.ProcessEnv = { ...process.env, CORDON_TEST_KEYRING: '1' };
    for (const line of unlock.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return await run(command, commandArgs, env);
  } finally {
    rmSync(keyringHome, { recursive: true, force: true });
  }
}
