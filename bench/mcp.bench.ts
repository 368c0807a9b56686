// MCP gateway overhead: the same SDK client calls the same stdio server's tool directly and
// through `cordon mcp wrap` (real daemon, real policy decision and audit write per call), in the
// same run. Target: <= 1 ms added per tools/call. Usage: node bench/mcp.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startDaemonProcess, testEnv } from '../test/helpers/daemonProcess.ts';
import { CHANGING_SERVER, MCP_LAUNCHER, writeCordonConfig } from '../test/mcp/helpers.ts';
import { percentile, printTable } from './report.ts';

const WARMUP = 20;
const CALLS = 300;

export async function run(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'cordon-bench-mcp-home-'));
  const cordonHome = mkdtempSync(join(tmpdir(), 'cordon-bench-mcp-'));
  writeCordonConfig(cordonHome, { mode: 'enforce' }, ['version: 1', 'defaults: {local: allow}', 'local:', '  - {id: bench-ok, action: allow, mcp: [{server: bench}]}']);
  const keychain = `cordon-bench-mcp-${process.pid}`;
  const daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: keychain } });
  const env = testEnv(cordonHome, { CORDON_KEYCHAIN_SERVICE: keychain }) as Record<string, string>;
  try {
    const direct = await measure(new StdioClientTransport({ command: process.execPath, args: [CHANGING_SERVER], env, stderr: 'ignore' }));
    const gated = await measure(new StdioClientTransport({ command: process.execPath, args: [MCP_LAUNCHER, 'mcp', 'wrap', '--server', 'bench', '--', process.execPath, CHANGING_SERVER], env, stderr: 'ignore' }));
    const row = (name: string, s: number[]): string[] => [name, fmt(percentile(s, 50)), fmt(percentile(s, 95)), fmt(mean(s))];
    printTable(['tools/call (ms)', 'p50', 'p95', 'mean'], [row('direct', direct), row('via cordon mcp wrap', gated)]);
    const added = percentile(gated, 50) - percentile(direct, 50);
    process.stdout.write(`added per call (p50): ${fmt(added)} ms (target <= 1 ms); ${CALLS} calls each, each gated call decided and audited by the daemon\n`);
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
}

async function measure(transport: StdioClientTransport): Promise<number[]> {
  const client = new Client({ name: 'cordon-bench', version: '1.0.0' });
  await client.connect(transport);
  try {
    await client.listTools();
    for (let i = 0; i < WARMUP; i++) await client.callTool({ name: 'stable', arguments: {} });
    const samples: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await client.callTool({ name: 'stable', arguments: {} });
      samples.push(performance.now() - start);
    }
    return samples;
  } finally {
    await client.close();
  }
}

function mean(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

function fmt(ms: number): string {
  return ms.toFixed(3);
}

if (import.meta.main) await run();
