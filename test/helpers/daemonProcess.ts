/** Starts a real `cordon daemon` process on a temp CORDON_HOME for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectControl, type ControlClient } from '../../app/client/controlClient.ts';
import { cordonPaths, type CordonPaths } from '../../app/util/paths.ts';

export const CORDON_BIN = new URL('../../bin/cordon.js', import.meta.url).pathname;

export type DaemonHandle = {
  child: ChildProcess;
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  cordonHome: string;
  output(): string;
  connect(): Promise<ControlClient>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cleanup(): Promise<void>;
};

export function testEnv(cordonHome: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    CORDON_HOME: cordonHome,
    CORDON_MANAGED_SETTINGS: join(cordonHome, 'managed.json'),
    ...extra,
  };
}

export async function startDaemonProcess(options: { home: string; cordonHome?: string; env?: NodeJS.ProcessEnv; args?: string[] }): Promise<DaemonHandle> {
  const cordonHome = options.cordonHome ?? mkdtempSync(join(tmpdir(), 'cordon-home-'));
  const env = testEnv(cordonHome, options.env);
  const paths = cordonPaths(env);
  const child = spawn(process.execPath, [CORDON_BIN, 'daemon', '--home', options.home, '--log-level', 'debug', ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const handle: DaemonHandle = {
    child,
    paths,
    env,
    cordonHome,
    output: () => output,
    connect: () => connectControl(paths.socketPath),
    exited,
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (!options.cordonHome) rmSync(cordonHome, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`daemon exited early (${child.exitCode}): ${output}`);
      if (!existsSync(paths.socketPath)) return false;
      try {
        const c = await handle.connect();
        c.close();
        return true;
      } catch {
        return false;
      }
    }, 30_000, () => `daemon did not start: ${output}`);
  } catch (error) {
    // The caller never gets a handle to clean up: a daemon left running would hold the test's pipes open.
    await handle.cleanup();
    throw error;
  }
  return handle;
}

/** Polls until check() is true; bounded by timeoutMs. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, message: () => string = () => 'condition not met'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
