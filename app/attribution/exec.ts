/**
 * Runs an OS tool (lsof, ps, netstat, PowerShell) for the macOS and Windows sources: no shell,
 * a time limit, an output cap, and the outcome as a value. A missing tool or a timeout is a
 * result the caller turns into "unattributed", never a throw.
 */
import { execFile } from 'node:child_process';

export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export type ExecResult =
  | Readonly<{ ok: true; exitCode: number; stdout: string }>
  | Readonly<{ ok: false; message: string }>;

/** Runs `file args` and returns stdout with the exit code (a non-zero exit is still ok: lsof exits 1 on no match). */
export function runTool(file: string, args: readonly string[], options: Readonly<{ timeoutMs?: number; maxBytes?: number }> = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: options.maxBytes ?? DEFAULT_MAX_BYTES, windowsHide: true, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout) => {
        if (error === null) return resolve({ ok: true, exitCode: 0, stdout });
        const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
        if (typeof code === 'number' && !error.killed) return resolve({ ok: true, exitCode: code, stdout });
        const why = error.killed ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : code === 'ENOENT' ? 'not installed' : error.message.split('\n')[0];
        resolve({ ok: false, message: `${file} ${why}` });
      },
    );
  });
}
