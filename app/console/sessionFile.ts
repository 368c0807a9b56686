/**
 * The console's session file: <runtimeDir>/console.json (0600) holds the port and the per-start
 * secret, so `cordon ui` (same OS user) can open the console. Nothing else ever records the secret.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../util/paths.ts';

export type ConsoleSession = { readonly port: number; readonly secret: string; readonly pid: number };

export function consoleSessionPath(runtimeDir: string): string {
  return join(runtimeDir, 'console.json');
}

/** Writes the session file atomically with mode 0600 inside the 0700 runtime dir. */
export function writeConsoleSession(runtimeDir: string, session: { port: number; secret: string }): void {
  ensurePrivateDir(runtimeDir);
  const file = consoleSessionPath(runtimeDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ port: session.port, secret: session.secret, pid: process.pid })}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Removes the session file (daemon stop); missing is fine. */
export function removeConsoleSession(runtimeDir: string): void {
  rmSync(consoleSessionPath(runtimeDir), { force: true });
}

/** Reads the session file; null when absent or not a valid session (never throws). */
export function readConsoleSession(runtimeDir: string): ConsoleSession | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(consoleSessionPath(runtimeDir), 'utf8'));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object') return null;
  const { port, secret, pid } = parsed as Record<string, unknown>;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return null;
  if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{20,200}$/.test(secret)) return null;
  return { port, secret, pid: typeof pid === 'number' ? pid : 0 };
}

/** The URL that opens the console with its secret in the fragment (never sent to the server). */
export function consoleOpenUrl(session: { port: number; secret: string }, route = ''): string {
  return `http://127.0.0.1:${session.port}/#${route ? `${route}&` : ''}s=${session.secret}`;
}
