/**
 * The real command runner for `cordon service`: execFile without a shell, bounded in time and
 * output. It never throws: a program that cannot start is a `spawnError` value.
 */
import { execFile } from 'node:child_process';
import type { CommandResult, CommandRunner } from './types.ts';

const TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 256 * 1024;

/** Runs `file args...` with this process's environment. */
export const runCommand: CommandRunner = (file, args) =>
  new Promise<CommandResult>((resolve) => {
    execFile(file, [...args], { timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ exitCode: 0, stdout, stderr });
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ exitCode: code, stdout, stderr });
      // No exit code: the program was not found, could not start, timed out or printed too much.
      const why = typeof code === 'string' ? code : error.killed ? `timed out after ${TIMEOUT_MS / 1000}s` : error.message;
      resolve({ exitCode: null, stdout, stderr, spawnError: `${file}: ${why}` });
    });
  });
