// Change-to-event latency of the daemon's live discovery: from writing an MCP config file to the
// daemon's event reaching a control-API subscriber. Baseline in the same run: how long the OS
// takes to tell a bare fs.watch on the file's directory about the same kind of write (the floor
// the daemon's own watcher, app/util/pathWatch.ts, builds on).
// Target (issue 2): change-to-event under 300 ms.
import { mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CordonEvent } from '../app/api/control.ts';
import { connectControl } from '../app/client/controlClient.ts';
import { startDaemon } from '../app/daemon/daemon.ts';
import { silentLogger } from '../app/util/log.ts';
import { cordonPaths } from '../app/util/paths.ts';
import { percentile, printTable } from './report.ts';

const ROUNDS = 25;

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cordon-bench-watch-'));
  const home = join(root, 'home');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  const config = join(home, '.cursor', 'mcp.json');
  writeFileSync(config, JSON.stringify({ mcpServers: {} }));
  try {
    const baseline = await fsWatchLatency(join(root, 'plain'));
    const env = { ...process.env, CORDON_HOME: join(root, 'cordon'), CORDON_MANAGED_SETTINGS: join(root, 'managed.json') };
    const paths = cordonPaths(env);
    const daemon = await startDaemon({ paths, env, log: silentLogger, home });
    const client = await connectControl(paths.socketPath);
    const waiting = new Map<string, (e: CordonEvent) => void>();
    client.onEvent((e) => {
      for (const [name, resolve] of waiting) if (e.summary.includes(`'${name}'`)) resolve(e);
    });
    await client.call('subscribe', {});
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = `server${i}`;
      const seen = new Promise<CordonEvent>((resolve) => waiting.set(name, resolve));
      const started = performance.now();
      writeFileSync(config, JSON.stringify({ mcpServers: { [name]: { command: 'node', args: [`${name}.js`] } } }));
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error(`no event for ${name} within 5 s`)), 5000))]);
      samples.push(performance.now() - started);
      waiting.delete(name);
    }
    client.close();
    await daemon.stop('benchmark done');
    const p50 = percentile(samples, 50);
    printTable(['measure', 'p50 ms', 'p95 ms', 'ratio to baseline p50', 'target'], [
      ['baseline: fs.watch notification', fmt(percentile(baseline, 50)), fmt(percentile(baseline, 95)), '1.00x', ''],
      ['change-to-event (write -> scan -> diff -> SQLite -> subscriber)', fmt(p50), fmt(percentile(samples, 95)), `${(p50 / percentile(baseline, 50)).toFixed(2)}x`, '< 300 ms'],
    ]);
    process.stdout.write(`${p50 < 300 ? 'meets' : 'MISSES'} the 300 ms change-to-event target (${ROUNDS} rounds)\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function fsWatchLatency(dir: string): Promise<number[]> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mcp.json');
  writeFileSync(file, '{}');
  let notify: (() => void) | null = null;
  const watcher = watch(dir, (_event, name) => {
    if (name === 'mcp.json') notify?.();
  });
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const seen = new Promise<void>((resolve) => (notify = resolve));
    const started = performance.now();
    writeFileSync(file, JSON.stringify({ i }));
    await Promise.race([seen, new Promise((r) => setTimeout(r, 2000))]);
    samples.push(performance.now() - started);
    notify = null;
    await new Promise((r) => setTimeout(r, 20));
  }
  watcher.close();
  return samples;
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
