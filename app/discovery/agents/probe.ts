/**
 * The last resort for a version: run `<binary> --version` once, bounded. No shell, stdin closed,
 * only HOME and PATH in the environment, output capped, the whole process group killed on timeout.
 * Results are cached per file (path, size, mtime), so rescans of an unchanged binary run nothing.
 */
import { spawn } from 'node:child_process';
import { versionFromOutput } from './version.ts';

const MAX_OUTPUT_BYTES = 8 * 1024;
const CACHE_LIMIT = 256;

export type ProbeTarget = Readonly<{
  /** The executable to run (the path found, so argv[0] looks as it does for the user). */
  path: string;
  /** Identity of the file behind it, for the cache. */
  realPath: string;
  size: number;
  mtimeMs: number;
}>;

export type ProbeOutcome =
  | { readonly kind: 'version'; readonly version: string }
  | { readonly kind: 'no-version' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'failed'; readonly message: string };

export type ProbeEnv = Readonly<{ home: string; path: string; systemRoot?: string }>;

const cache = new Map<string, ProbeOutcome>();

/** Runs `<target> --version` with a hard time bound; never throws, never leaves a child behind. */
export async function probeVersion(target: ProbeTarget, env: ProbeEnv, timeoutMs: number): Promise<ProbeOutcome> {
  const key = `${target.realPath}\u0000${target.size}\u0000${target.mtimeMs}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const outcome = await runOnce(target.path, env, timeoutMs);
  if (outcome.kind !== 'failed') {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, outcome);
  }
  return outcome;
}

function runOnce(path: string, env: ProbeEnv, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const isWindows = process.platform === 'win32';
    let child;
    try {
      child = spawn(path, ['--version'], {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { HOME: env.home, PATH: env.path, ...(isWindows && env.systemRoot ? { SystemRoot: env.systemRoot } : {}) },
        // Its own process group, so a timeout kills grandchildren (a script's `sleep`) too.
        detached: !isWindows,
        windowsHide: true,
      });
    } catch (error) {
      resolve({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;

    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killTree(child.pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      resolve(outcome);
    };
    const fromOutput = (): ProbeOutcome => {
      const version = versionFromOutput(Buffer.concat(chunks).toString('utf8'));
      return version === null ? { kind: 'no-version' } : { kind: 'version', version };
    };
    const collect = (chunk: Buffer): void => {
      if (bytes >= MAX_OUTPUT_BYTES) return;
      chunks.push(chunk.subarray(0, MAX_OUTPUT_BYTES - bytes));
      bytes += chunk.length;
      // Enough output to judge: stop the program rather than read an endless stream.
      if (bytes >= MAX_OUTPUT_BYTES) finish(fromOutput());
    };

    const timer = setTimeout(() => {
      // A version printed before the hang still counts.
      const partial = fromOutput();
      finish(partial.kind === 'version' ? partial : { kind: 'timeout' });
    }, timeoutMs);
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', (error) => finish({ kind: 'failed', message: error.message }));
    child.on('close', () => finish(fromOutput()));
  });
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    if (process.platform === 'win32') process.kill(pid, 'SIGKILL');
    else process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
