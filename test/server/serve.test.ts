/**
 * `npm run server -- serve`: JSON logs, the listening line, several worker processes sharing one
 * port and one database, and a clean stop on SIGTERM (no worker left behind).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { waitFor } from '../helpers/daemonProcess.ts';
import { freshLocation } from './helpers.ts';

const SERVER_MAIN = new URL('../../server/main.ts', import.meta.url).pathname;

test('serve --workers 2: both workers answer, SIGTERM stops everything cleanly', async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const db = location.kind === 'sqlite' ? `sqlite:${location.file}` : '';
  const child = spawn(process.execPath, [SERVER_MAIN, 'serve', '--db', db, '--port', '0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => (output.match(/"msg":"listening"/g) ?? []).length === 2, 20_000, () => output);
    const lines = output.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; url?: string; pid?: number; level: string });
    const listening = lines.filter((l) => l.msg === 'listening');
    assert.equal(new Set(listening.map((l) => l.url)).size, 1, 'one port for all workers');
    const workers = listening.map((l) => l.pid ?? 0);
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${listening[0]?.url}/healthz`)).status, 200);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0, output);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'no worker is left behind');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cleanup();
  }
});
