// Daemon idle memory (issue 4): a real `cordon daemon`, started as the service units start it
// (node bin/cordon.js daemon), on a fixture home holding every MCP client's configs, with a real
// policy, the proxy listening and the watchers running. Once it is idle, VmRSS and VmHWM come from
// /proc/<pid>/status (Linux only). Baseline in the same run: a bare `node -e` process holding one
// listening socket, the floor any Node daemon starts from. The first start fills the compile cache
// (bin/cordon.js); restarts, what users run after that, are measured REPS times, interleaved with
// the same restart without the daemon's Node flags and without the compile cache, so each row's
// difference to the first restart row is what that measure saves. The last rows are the same
// restart, idle again (AFTER_LOAD_SETTLE_MS) after LOAD_REQUESTS requests through its proxy (a leak
// shows there), as shipped and without the start-up compiler hold (app/daemon/startupTiering.ts):
// the load starts once start-up is over, and its requests/s show that the daemon's request path is
// optimized as usual afterwards. Target: idle RSS <= 80 MB.
// Not measured here: the lazily loaded modules (secretlint, node-forge, the plist parser) stay out
// of an idle daemon on every row; their share is in the report of the change that made them lazy.
// Usage: node bench/run.ts memory   (or: node bench/memory.bench.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DaemonStatus } from '../app/api/control.ts';
import { cordonPaths } from '../app/util/paths.ts';
import { buildMcpHome, type McpFixture } from '../test/fixtures/homes/mcp.ts';
import { daemonStatus } from './daemonStatus.ts';
import { readProcMemory } from './procStats.ts';
import { percentile, printTable } from './report.ts';

const CORDON_BIN = fileURLToPath(new URL('../bin/cordon.js', import.meta.url));
const TARGET_MB = 80;
/** How long the daemon sits idle after start-up (inventory scanned, proxy up) before it is measured. */
const SETTLE_MS = 6000;
/** After load, idle long enough for the daemon to see that the burst has ended (two of its 5 s checks) and collect. */
const AFTER_LOAD_SETTLE_MS = 12_000;
/** Readings per daemon, SAMPLE_EVERY_MS apart after settling; their median is the daemon's figure. */
const SAMPLES = 3;
const SAMPLE_EVERY_MS = 500;
/** Restarts measured per variant, interleaved; the median is reported. */
const REPS = 3;
/** Requests sent through the proxy before the "after load" reading (each carries a token-like header, so the secret scan runs). */
const LOAD_REQUESTS = 2000;

type Memory = { rss: number; hwm: number };
type Variant = { name: string; env: NodeJS.ProcessEnv };
type Measured = { memory: Memory; status: DaemonStatus; nodeFlags: string[]; requestsPerSecond: number | null };

const VARIANTS: readonly Variant[] = [
  { name: 'restart (as shipped)', env: {} },
  { name: 'restart without the daemon Node flags', env: { CORDON_DAEMON_NODE_FLAGS: '' } },
  { name: 'restart without the start-up compiler hold', env: { CORDON_DAEMON_NODE_FLAGS: '--expose-gc' } },
  { name: 'restart without the compile cache', env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
];

export async function run(): Promise<void> {
  if (process.platform !== 'linux') {
    process.stdout.write('memory: skipped (reads /proc/<pid>/status, Linux only)\n');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'cordon-bench-memory-'));
  const children: ChildProcess[] = [];
  try {
    const fixture = await buildMcpHome(root);
    const cordonHome = join(root, 'cordon');
    mkdirSync(join(cordonHome, 'config'), { recursive: true });
    writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', proxyPort: 0, projectRoots: fixture.projectRoots }));
    writeFileSync(join(cordonHome, 'config', 'policy.yaml'), POLICY);
    const baseline = await measureBaseline(children);
    // The first start makes the CA and fills the compile cache; it is reported on its own. Node
    // keeps one cache per set of V8 flags, so each variant with other flags gets its own first start.
    const first = await measureDaemon(fixture, cordonHome, {}, children);
    for (const variant of VARIANTS) {
      if (variant.env.CORDON_DAEMON_NODE_FLAGS !== undefined) await measureDaemon(fixture, cordonHome, variant.env, children);
    }
    const runs = new Map<string, Measured[]>(VARIANTS.map((v) => [v.name, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const variant of VARIANTS) runs.get(variant.name)?.push(await measureDaemon(fixture, cordonHome, variant.env, children));
    }
    const loaded = await measureDaemon(fixture, cordonHome, {}, children, LOAD_REQUESTS);
    const loadedUnheld = await measureDaemon(fixture, cordonHome, { CORDON_DAEMON_NODE_FLAGS: '--expose-gc' }, children, LOAD_REQUESTS);
    const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
    const row = (name: string, flags: string[], m: Memory, target: string, rps: number | null = null): string[] => [name, flags.join(' ') || 'none', mb(m.rss), mb(m.hwm), `${(m.rss / baseline.rss).toFixed(2)}x`, rps === null ? '' : rps.toFixed(0), target];
    const med = (name: string): { memory: Memory; nodeFlags: string[] } => {
      const list = runs.get(name) ?? [];
      return { memory: { rss: percentile(list.map((r) => r.memory.rss), 50), hwm: percentile(list.map((r) => r.memory.hwm), 50) }, nodeFlags: list[0]?.nodeFlags ?? [] };
    };
    const shipped = med(VARIANTS[0]?.name ?? '');
    process.stdout.write(`idle = ${SETTLE_MS / 1000} s after the inventory is scanned and the proxy listens; median of ${SAMPLES} readings; restarts: median of ${REPS}, interleaved; MiB = 1048576 bytes\n`);
    printTable(['process', 'node flags', 'VmRSS MiB', 'VmHWM MiB', 'RSS ratio to baseline', 'load req/s', 'target'], [
      row('baseline: node -e, one listening socket', [], baseline, ''),
      row('cordon daemon, first start (fills the compile cache)', first.nodeFlags, first.memory, ''),
      ...VARIANTS.map((v, i) => {
        const m = med(v.name);
        return row(`cordon daemon, ${v.name}`, m.nodeFlags, m.memory, i === 0 ? `<= ${TARGET_MB} MB` : '');
      }),
      row(`cordon daemon, restart, idle ${AFTER_LOAD_SETTLE_MS / 1000} s after ${LOAD_REQUESTS} proxied requests`, loaded.nodeFlags, loaded.memory, '', loaded.requestsPerSecond),
      row(`the same without the start-up compiler hold`, loadedUnheld.nodeFlags, loadedUnheld.memory, '', loadedUnheld.requestsPerSecond),
    ]);
    const s = runs.get(VARIANTS[0]?.name ?? '')?.at(-1)?.status ?? first.status;
    process.stdout.write(`daemon state when measured: proxy ${s.proxy ? s.proxy.url : 'NOT LISTENING'}, policy ${s.policy.rules} rules (${s.policy.problems} problems), ${s.inventory.agents} agents and ${s.inventory.mcpServers} MCP servers, watching ${s.watcher.paths} paths, keychain ${s.keychain.available ? 'available' : 'UNAVAILABLE'}\n`);
    const rssMb = shipped.memory.rss / 1e6;
    process.stdout.write(`${rssMb <= TARGET_MB ? 'meets' : 'MISSES'} idle RSS <= ${TARGET_MB} MB after a restart (${rssMb.toFixed(1)} MB = ${mb(shipped.memory.rss)} MiB)\n`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

/** A bare Node process holding one listening socket on loopback. */
async function measureBaseline(children: ChildProcess[]): Promise<Memory> {
  const script = "require('node:net').createServer().listen(0, '127.0.0.1', () => process.stdout.write('ready\\n'))";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`baseline exited (${code})`)));
  });
  const memory = await settle(child.pid ?? 0);
  child.kill();
  return memory;
}

/**
 * Starts the daemon (node bin/cordon.js daemon), optionally sends `requests` through its proxy,
 * waits until it is idle, measures it and stops it.
 */
async function measureDaemon(fixture: McpFixture, cordonHome: string, extraEnv: NodeJS.ProcessEnv, children: ChildProcess[], requests = 0): Promise<Measured> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: fixture.home,
    ...fixture.env,
    DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    CORDON_HOME: cordonHome,
    CORDON_MANAGED_SETTINGS: join(cordonHome, 'managed.json'),
    CORDON_KEYCHAIN_SERVICE: `cordon-bench-memory-${process.pid}`,
    ...extraEnv,
  };
  const paths = cordonPaths(env);
  const child = spawn(process.execPath, [CORDON_BIN, 'daemon', '--home', fixture.home], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output = `${output}${d.toString()}`.slice(-4000)));
  const deadline = Date.now() + 30_000;
  let status: DaemonStatus | null = null;
  while (status === null) {
    if (child.exitCode !== null) throw new Error(`daemon exited early (${child.exitCode}): ${output}`);
    if (Date.now() > deadline) throw new Error(`daemon did not answer within 30 s: ${output}`);
    if (existsSync(paths.socketPath)) status = await daemonStatus(paths.socketPath);
    if (status?.inventory.scannedAt === null) status = null;
    if (status === null) await sleep(100);
  }
  if (status.pid !== child.pid) throw new Error(`the daemon answering (pid ${status.pid}) is not the one started (pid ${child.pid})`);
  if (!status.proxy) throw new Error(`the daemon's proxy is not listening: ${output}`);
  let requestsPerSecond: number | null = null;
  if (requests > 0) {
    // Start-up is over (and its compiler hold lifted) a few seconds after the daemon answers.
    await sleep(SETTLE_MS);
    const started = performance.now();
    await sendThroughProxy(status.proxy.url, requests);
    requestsPerSecond = requests / ((performance.now() - started) / 1000);
  }
  const memory = await settle(status.pid, requests > 0 ? AFTER_LOAD_SETTLE_MS : SETTLE_MS);
  // What the daemon really runs with: node's own options, between the node binary and the script.
  const argv = readFileSync(`/proc/${status.pid}/cmdline`, 'utf8').split('\0');
  const nodeFlags = argv.slice(1, Math.max(1, argv.findIndex((a) => a.endsWith('cordon.js'))));
  const after = (await daemonStatus(paths.socketPath)) ?? status;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { memory, status: after, nodeFlags, requestsPerSecond };
}

/** Plain HTTP GETs to a local origin through the proxy, 8 keep-alive connections; every one must be answered 200. */
async function sendThroughProxy(proxyUrl: string, count: number): Promise<void> {
  const origin = createServer((_req, res) => res.end('x'.repeat(2048)));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const port = (origin.address() as AddressInfo).port;
  const proxy = new URL(proxyUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  let failed = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: proxy.hostname, port: proxy.port, path: `http://127.0.0.1:${port}/item?i=${i}`, agent, headers: { host: `127.0.0.1:${port}`, 'x-request-tag': `bench${i}abcdefghijklmnopqrstuvwxyz` } }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  try {
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (sent < count) await one(sent++);
    }));
  } finally {
    agent.destroy();
    origin.close();
  }
  if (failed > 0) throw new Error(`${failed} of ${count} requests through the proxy failed`);
}


/** Waits `idleMs`, then the median of SAMPLES readings of /proc/<pid>/status. */
async function settle(pid: number, idleMs = SETTLE_MS): Promise<Memory> {
  await sleep(idleMs);
  const samples: Memory[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await sleep(SAMPLE_EVERY_MS);
    samples.push(readProcMemory(pid));
  }
  return { rss: percentile(samples.map((s) => s.rss), 50), hwm: Math.max(...samples.map((s) => s.hwm)) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A policy of the size a team writes: egress rules of every kind and local rules. */
const POLICY = [
  'version: 1',
  'rules:',
  '  - id: bench-origin',
  '    action: allow',
  '    ips: [127.0.0.1]',
  '  - id: inspect-anthropic',
  '    action: allow',
  '    hosts: [api.anthropic.com]',
  '    inspect: true',
  '  - id: package-registries',
  '    action: allow',
  '    hosts: [registry.npmjs.org, pypi.org, files.pythonhosted.org, "*.crates.io"]',
  '  - id: model-apis',
  '    action: allow',
  '    hosts: [api.anthropic.com, api.openai.com, generativelanguage.googleapis.com]',
  '  - id: github',
  '    action: allow',
  '    hosts: [github.com, "*.github.com", "*.githubusercontent.com"]',
  '  - id: paste-sites',
  '    action: deny',
  '    hosts: [pastebin.com, "*.paste.ee", transfer.sh]',
  '  - id: private-ranges',
  '    action: ask',
  '    cidrs: [10.0.0.0/8, 192.168.0.0/16]',
  'local:',
  '  - id: no-rm-home',
  '    action: deny',
  '    commands: ["rm -rf ~*", "rm -rf /home/*"]',
  '  - id: ask-force-push',
  '    action: ask',
  '    commands: ["git push --force*"]',
  '  - id: ls-ok',
  '    action: allow',
  '    commands: ["ls*"]',
  '',
].join('\n');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
