/**
 * Runs one command as a child with a given environment and hands back its exit status, the way
 * a shell would (128 + signal number when it was killed). Forwards termination signals; Ctrl-C
 * and Ctrl-\ reach a child on the same terminal by themselves, so those are only forwarded when
 * there is no terminal (otherwise the child would see each one twice).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';

const ALWAYS_FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];

export type RunChildOptions = Readonly<{
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where "command not found" and similar go. */
  stderr: Writable;
  /** Default: true when stdin is a terminal. */
  interactive?: boolean;
}>;

/** Runs command[0] with command[1..]; resolves with the exit code (127 when it cannot be started). */
export function runChild(command: readonly string[], options: RunChildOptions): Promise<number> {
  const [file, ...args] = command;
  if (file === undefined || file === '') return Promise.resolve(127);
  const interactive = options.interactive ?? process.stdin.isTTY === true;
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: 'inherit' });
    const handlers = new Map<NodeJS.Signals, () => void>();
    const forwarded = process.platform === 'win32' ? [] : [...ALWAYS_FORWARDED, ...TERMINAL_SIGNALS];
    for (const signal of forwarded) {
      const handler = (): void => {
        if (interactive && TERMINAL_SIGNALS.includes(signal)) return;
        child.kill(signal);
      };
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
    const cleanup = (): void => {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      options.stderr.write(`cordon run: cannot start '${file}': ${error.code === 'ENOENT' ? 'command not found' : (error.code ?? error.message)}\n`);
      resolve(error.code === 'EACCES' ? 126 : 127);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
