/**
 * Finds the daemon's control socket, attaches to it, and starts `cordon daemon` (detached, so it
 * outlives the UI) when nothing answers. The retry logic is pure over injected connect/spawn.
 */
import { spawn } from 'node:child_process';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join, win32 } from 'node:path';
import type { ControlClient } from '../app/client/controlClient.ts';

/**
 * The control socket path, computed exactly as app/util/paths.ts does (main/ may not import
 * app/util; test/main/daemonLink.test.ts checks that the two agree).
 */
export function controlSocketPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || homedir();
  let runtimeDir: string;
  if (env.CORDON_HOME) runtimeDir = join(env.CORDON_HOME, 'run');
  else if (platform === 'darwin') runtimeDir = join(home, 'Library', 'Application Support', 'Cordon', 'run');
  else if (platform === 'win32') runtimeDir = join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'Cordon', 'run');
  else runtimeDir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'cordon') : join(tmpdir(), `cordon-${userInfo().uid}`);
  return platform === 'win32' ? `\\\\.\\pipe\\cordon-${userInfo().username}-${fnv1a(runtimeDir)}` : join(runtimeDir, 'control.sock');
}

function fnv1a(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}

export type DaemonCommand = { readonly command: string; readonly args: readonly string[] };

/**
 * How to start the daemon. Packaged: the installed `cordon` CLI (the installers put it on PATH;
 * Electron's RunAsNode fuse is off, so the app binary cannot run it). Development: Node 24 with
 * the repository's bin/cordon.js.
 */
export function daemonCommand(options: { packaged: boolean; repoRoot: string; platform: NodeJS.Platform }): DaemonCommand {
  if (options.packaged) return { command: options.platform === 'win32' ? 'cordon.exe' : 'cordon', args: ['daemon'] };
  const bin = options.platform === 'win32' ? win32.join(options.repoRoot, 'bin', 'cordon.js') : join(options.repoRoot, 'bin', 'cordon.js');
  return { command: 'node', args: [bin, 'daemon'] };
}

/** Starts the daemon detached from the UI (it keeps enforcing when the UI quits). Returns false if it could not be spawned. */
export function spawnDaemon(cmd: DaemonCommand, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd.command, [...cmd.args], { detached: true, stdio: 'ignore', env, windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

export type LinkDeps = {
  readonly socketPath: string;
  readonly connect: (socketPath: string) => Promise<ControlClient>;
  /** Starts the daemon; false when it could not be started. */
  readonly start: () => Promise<boolean>;
  readonly sleep: (ms: number) => Promise<void>;
  /** Connection attempts after starting the daemon (bounded). */
  readonly attempts?: number;
  readonly delayMs?: number;
};

export type LinkResult =
  | { readonly ok: true; readonly client: ControlClient; readonly started: boolean }
  | { readonly ok: false; readonly reason: string };

/** Attaches to a running daemon, or starts one and waits (bounded) for its socket to answer. */
export async function linkDaemon(deps: LinkDeps, allowStart = true): Promise<LinkResult> {
  try {
    return { ok: true, client: await deps.connect(deps.socketPath), started: false };
  } catch {
    // Not running (or not answering): start it below.
  }
  if (!allowStart) return { ok: false, reason: 'the Cordon daemon is not running' };
  if (!(await deps.start())) return { ok: false, reason: "could not start 'cordon daemon' (is Cordon installed?)" };
  const attempts = Math.min(Math.max(deps.attempts ?? 20, 1), 100);
  for (let i = 0; i < attempts; i++) {
    await deps.sleep(deps.delayMs ?? 250);
    try {
      return { ok: true, client: await deps.connect(deps.socketPath), started: true };
    } catch {
      // Still starting.
    }
  }
  return { ok: false, reason: 'the Cordon daemon was started but its control socket did not answer' };
}
