// Fleet server benchmarks, on SQLite and PostgreSQL:
//  1. event ingest through the whole protocol (HTTP, DPoP with nonces and the shared replay cache,
//     validation, hash verification, idempotent insert, cursor) in realistic batches of 500 chained
//     audit events, against a baseline measured in the same run: a raw INSERT of the same rows into
//     a same-shaped table in the same database (no HTTP, no JSON, no checks);
//  2. inventory sync of 10,000 simulated devices (enroll + snapshot each, over HTTP);
//  3. console queries at that size (target: <= 100 ms each).
// The server runs in its own process with --workers 2 (one per core), as deployed; the load
// generator is this process. Runnable directly: node bench/fleet.bench.ts [--devices N]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentRecord, Inventory, McpServerRecord } from '../app/api/inventory.ts';
import type { EnrollResponse, SyncEvent } from '../app/api/sync.ts';
import { createAuditLog } from '../app/audit/auditLog.ts';
import type { DecisionAuditInput } from '../app/audit/decision.ts';
import { fetchWithDpop } from '../app/identity/dpop/nonceRetry.ts';
import { createSigner, generatePrivateKey, type Signer } from '../app/identity/signer.ts';
import { openDatabase } from '../app/store/database.ts';
import { buildUpload, prepareInventory } from '../app/sync/inventorySync.ts';
import { sha256 } from '../server/store/credentials.ts';
import { EVENT_COLUMNS } from '../server/store/events.ts';
import { openFleetStore, type DatabaseLocation, type FleetStore } from '../server/store/fleetStore.ts';
import { postgresSkipReason, startPostgres } from '../test/helpers/postgres.ts';
import { percentile, printTable } from './report.ts';

const BATCH = 500;
const INGEST_DEVICES = 16;
const EVENTS_PER_DEVICE = 5_000;
const CONCURRENCY = 4;
const INVENTORY_CONCURRENCY = 8;
const QUERY_RUNS = 7;
const QUERY_TARGET_MS = 100;
const WORKERS = 2;
const ENROLL_SAMPLE = 300;
const SERVER_MAIN = new URL('../server/main.ts', import.meta.url).pathname;
const INGEST_TARGET = 20_000;

type Row = (string | number | null)[];

export async function run(): Promise<void> {
  const devices = deviceCount();
  const root = mkdtempSync(join(tmpdir(), 'cordon-bench-fleet-'));
  try {
    const events = chainedEvents(root);
    const results: string[][] = [];
    const queries: string[][] = [];
    const backends: { name: string; location: () => Promise<DatabaseLocation>; stop?: () => Promise<void> }[] = [
      { name: 'sqlite', location: async () => ({ kind: 'sqlite', file: join(root, `fleet-${Date.now()}.db`) }) },
    ];
    const skip = postgresSkipReason();
    if (!skip) {
      const cluster = await startPostgres();
      backends.push({ name: 'postgres', location: async () => ({ kind: 'postgres', url: await cluster.createDatabase() }), stop: () => cluster.stop() });
    }
    try {
      for (const backend of backends) {
        const ingest = await benchIngest(await backend.location(), events);
        for (const q of ingest.queries) queries.push([backend.name, q.name, q.rows, `${q.median.toFixed(1)}`, `${q.max.toFixed(1)}`, q.max <= QUERY_TARGET_MS ? 'met' : 'MISSED']);
        results.push([`${backend.name}: ingest, batches of ${BATCH} (${INGEST_DEVICES} devices x ${EVENTS_PER_DEVICE})`, fmt(ingest.protocol), fmt(ingest.baseline), `${(ingest.protocol / ingest.baseline).toFixed(2)}x`, backend.name === 'sqlite' ? `>= ${fmt(INGEST_TARGET)}: ${ingest.protocol >= INGEST_TARGET ? 'met' : 'MISSED'}` : '-']);
        const inv = await benchInventory(await backend.location(), devices);
        results.push([`${backend.name}: inventory snapshot sync, ${devices.toLocaleString('en-US')} devices`, `${fmt(inv.devicesPerSecond)} devices/s`, `${fmt(inv.baselinePerSecond)} devices/s`, `${(inv.devicesPerSecond / inv.baselinePerSecond).toFixed(2)}x`, `${inv.seconds.toFixed(1)} s for all`]);
        results.push([`${backend.name}: enrollment (${ENROLL_SAMPLE} new devices)`, `${fmt(inv.enrollPerSecond)} devices/s`, '-', '-', '-']);
        for (const q of inv.queries) queries.push([backend.name, q.name, q.rows, `${q.median.toFixed(1)}`, `${q.max.toFixed(1)}`, q.max <= QUERY_TARGET_MS ? 'met' : 'MISSED']);
      }
    } finally {
      for (const b of backends) await b.stop?.();
    }
    printTable(['measure', 'protocol', 'baseline (raw INSERT, same rows)', 'ratio', 'target'], results);
    printTable(['backend', `console query (inventory at ${devices.toLocaleString('en-US')} devices)`, 'rows', 'median ms', 'max ms', `<= ${QUERY_TARGET_MS} ms`], queries);
    if (skip) process.stdout.write(`PostgreSQL benchmarks SKIPPED: ${skip}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** EVENTS_PER_DEVICE real chained audit events (decisions and inventory changes), as uploaded. */
function chainedEvents(root: string): SyncEvent[] {
  const db = openDatabase(join(root, 'daemon.db'));
  const log = createAuditLog(db, { headFile: null });
  for (let i = 0; i < EVENTS_PER_DEVICE; i += 1000) {
    log.appendBatch(Array.from({ length: 1000 }, (_, j) => decision((i + j) % 7 === 0 ? 'deny' : 'allow', (i + j) % 5)));
  }
  const events = log.query({ order: 'asc', limit: 10_000 });
  db.close();
  return events;
}

/** A fleet server in its own process (as deployed), `--workers 2` on this 2-core machine. */
async function startServerProcess(location: DatabaseLocation): Promise<{ url: string; stop(): Promise<void> }> {
  const db = location.kind === 'sqlite' ? `sqlite:${location.file}` : location.url;
  const child = spawn(process.execPath, [SERVER_MAIN, 'serve', '--db', db, '--port', '0', '--workers', String(WORKERS), '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The server's warnings and errors show up in the benchmark output.
  child.stdout?.on('data', (d: Buffer) => {
    if (/"level":"(error|warn)"/.test(d.toString())) process.stderr.write(d);
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${output}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /"msg":"listening".*?"url":"([^"]+)"/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', () => reject(new Error(`the server exited: ${output}`)));
  });
  child.stdout?.resume();
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }),
  };
}

async function benchIngest(location: DatabaseLocation, events: SyncEvent[]): Promise<{ protocol: number; baseline: number; queries: QueryTiming[] }> {
  const store = await openFleetStore(location);
  const server = await startServerProcess(location);
  try {
    const { secret } = await store.credentials.createEnrollSecret({}, Date.now());
    const devices: BenchDevice[] = [];
    for (let i = 0; i < INGEST_DEVICES; i++) devices.push(await enroll(server.url, secret, `ingest-${i}`));
    // Bodies are serialized before timing: the device's cost is not the server's.
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify({ after: i, events: events.slice(i, i + BATCH) }));
    const queue = [...devices];
    const started = performance.now();
    // Each device sends its batches in order; CONCURRENCY devices at a time.
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let device = queue.shift(); device; device = queue.shift()) {
        for (const body of bodies) {
          const r = await device.call('POST', '/v1/events', body);
          if (r.status !== 200) throw new Error(`ingest failed: ${r.status} ${await r.text()}`);
          await r.arrayBuffer();
        }
      }
    }));
    const protocolSeconds = (performance.now() - started) / 1000;
    const total = INGEST_DEVICES * events.length;
    const stored = await store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
    if (stored?.n !== total) throw new Error(`stored ${stored?.n}, expected ${total}`);
    await server.stop();

    // Baseline: the same rows and batch size into a same-shaped table with the same indexes.
    await store.driver.exec('CREATE TABLE baseline_events AS SELECT * FROM events WHERE 1 = 0');
    const indexes = ['UNIQUE INDEX be_1 ON baseline_events (device_id, event_id)', 'INDEX be_2 ON baseline_events (device_id, time_ms)', 'INDEX be_3 ON baseline_events (time_ms)', 'INDEX be_4 ON baseline_events (decision, time_ms)', 'INDEX be_5 ON baseline_events (host, time_ms)', 'INDEX be_6 ON baseline_events (agent_kind, time_ms)'];
    for (const index of indexes) await store.driver.exec(`CREATE ${index}`);
    const rows = (deviceId: string, slice: SyncEvent[]): Row[] => slice.map((e) => [
      deviceId, e.id, e.seq, e.time, Date.parse(e.time), e.type, e.subjectId, e.summary, JSON.stringify(e.data), e.agent, e.agentKind, e.decision, e.rule,
      e.destination?.host ?? null, e.destination?.port ?? null, e.destination?.method ?? null, e.destination?.path ?? null, e.bytesUp, e.bytesDown, e.keyThumbprint, e.prevHash, e.hash, 1, Date.now(),
    ]);
    const prepared = devices.flatMap((_d, i) => bodies.map((_, b) => rows(`dev_${i}`, events.slice(b * BATCH, (b + 1) * BATCH))));
    const baseStarted = performance.now();
    for (const batch of prepared) await store.driver.transaction((tx) => tx.insertMany('baseline_events', EVENT_COLUMNS, batch));
    const baseSeconds = (performance.now() - baseStarted) / 1000;
    await store.driver.exec('ANALYZE');
    const deviceId = (await store.driver.get<{ id: string }>('SELECT id FROM devices LIMIT 1'))?.id ?? '';
    const since = Date.now() - 86_400_000;
    const queries = await timeQueries([
      [`audit: newest ${fmt(total)} events, first page`, () => store.queries.audit({ limit: 100 })],
      ['audit: denies to one host', () => store.queries.audit({ decision: 'deny', host: 'api3.example.com', limit: 100 })],
      ['audit: one device, last day', () => store.queries.audit({ deviceId, since, limit: 100 })],
      ['audit: one agent kind, allows', () => store.queries.audit({ agent: 'claude-code', decision: 'allow', limit: 100 })],
      ['timeline: decisions and approvals per hour, last day', () => store.consoleQueries.timeline({ since, until: Date.now(), bucket: 'hour' }).then((t) => ({ items: t.buckets }))],
      ['fleet context: devices that allowed/blocked a host', () => store.consoleQueries.destinationDevices('api3.example.com', Date.now() - 30 * 86_400_000, deviceId).then((c) => ({ items: [c] }))],
    ]);
    return { protocol: total / protocolSeconds, baseline: total / baseSeconds, queries };
  } finally {
    await server.stop();
    await store.close();
  }
}

async function benchInventory(location: DatabaseLocation, count: number) {
  const store = await openFleetStore(location);
  try {
    // 10,000 enrolled devices, seeded straight into the database (enrollment is measured below on
    // a sample): their tokens, keys and a nonce each, as if they had synced before.
    const now = Date.now();
    const seeded: { signer: Signer; token: string; nonce: string }[] = [];
    const deviceRows: Row[] = [];
    const nonceRows: Row[] = [];
    for (let i = 0; i < count; i++) {
      const signer = createSigner(generatePrivateKey('ES256'), 'ES256');
      const token = `cdt_${randomBytes(32).toString('base64url')}`;
      const nonce = randomBytes(24).toString('base64url');
      seeded.push({ signer, token, nonce });
      const host = `laptop-${String(i).padStart(5, '0')}`;
      deviceRows.push([`dev_bench_${i}`, sha256(token), signer.jkt, host, host, 'linux', `dev${i}`, '0.1.0', now, now]);
      nonceRows.push([signer.jkt, nonce, now + 3_600_000]);
    }
    await store.driver.transaction(async (tx) => {
      await tx.insertMany('devices', ['id', 'token_hash', 'jkt', 'hostname', 'hostname_lc', 'platform', 'os_user', 'agent_version', 'enrolled_at', 'last_seen_at'], deviceRows);
      await tx.insertMany('dpop_nonces', ['scope', 'value', 'expires_at'], nonceRows);
    });

    const server = await startServerProcess(location);
    let seconds: number;
    let enrollPerSecond: number;
    try {
      let next = 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: INVENTORY_CONCURRENCY }, async () => {
        for (let i = next++; i < count; i = next++) {
          const d = seeded[i];
          if (!d) break;
          const inventory = simulatedInventory(i);
          const upload = buildUpload(inventory, prepareInventory(inventory), { agentVersion: '0.1.0', mode: i % 3 ? 'monitor' : 'enforce', protection: 'protected', policyVersion: null }, null);
          const send = () => fetchWithDpop(fetch, `${server.url}/v1/inventory`, { signer: d.signer, method: 'POST', accessToken: d.token, nonce: d.nonce, headers: { 'content-type': 'application/json' }, body: JSON.stringify(upload) });
          // Like the real client, retry a request whose connection dropped (the upload is idempotent).
          const { response } = await send().catch(() => send());
          if (response.status !== 200) throw new Error(`inventory failed: ${response.status} ${await response.text()}`);
          await response.arrayBuffer();
        }
      }));
      seconds = (performance.now() - started) / 1000;
      // Enrollment (key proof, nonce round trip, secret check), on a sample.
      const { secret } = await store.credentials.createEnrollSecret({}, Date.now());
      const enrollStarted = performance.now();
      let e = 0;
      await Promise.all(Array.from({ length: INVENTORY_CONCURRENCY }, async () => {
        for (let i = e++; i < ENROLL_SAMPLE; i = e++) await enroll(server.url, secret, `new-${i}`);
      }));
      enrollPerSecond = ENROLL_SAMPLE / ((performance.now() - enrollStarted) / 1000);
    } finally {
      await server.stop();
    }

    // Baseline: the same snapshots applied straight to the data layer (no HTTP, DPoP or validation).
    const baseCount = Math.min(count, 1000);
    const baseStarted = performance.now();
    for (let i = 0; i < baseCount; i++) {
      const inv = simulatedInventory(i);
      const p = prepareInventory(inv);
      await store.inventories.apply(`dev_bench_${i}`, { kind: 'snapshot', state: { agentVersion: '0.1.0', mode: i % 3 ? 'monitor' : 'enforce', protection: 'protected', policyVersion: null }, host: inv.host, baseHash: null, claimedHash: p.hash, agents: p.agents, mcpServers: p.mcpServers, removeAgents: [], removeMcpServers: [] }, Date.now());
    }
    const baselinePerSecond = baseCount / ((performance.now() - baseStarted) / 1000);
    await store.driver.exec('ANALYZE');
    return { seconds, devicesPerSecond: count / seconds, baselinePerSecond, enrollPerSecond, queries: await benchQueries(store) };
  } finally {
    await store.close();
  }
}

async function benchQueries(store: FleetStore) {
  const q = store.queries;
  const someDevice = (await store.driver.get<{ id: string }>('SELECT id FROM devices ORDER BY hostname_lc LIMIT 1 OFFSET ?', [Math.floor(await count(store) / 2)]))?.id ?? '';
  const cases: [string, () => Promise<{ items: readonly unknown[] }>][] = [
    ['devices, first page (100)', () => q.devices({ status: 'active', limit: 100 })],
    ['devices, search "laptop-0421"', () => q.devices({ status: 'active', q: 'laptop-0421', limit: 100 })],
    ['devices, enforce mode, seen today', () => q.devices({ status: 'active', mode: 'enforce', seenSince: Date.now() - 86_400_000, limit: 100 })],
    ['agents across the fleet (by kind, version)', () => q.agents({ limit: 500 })],
    ['MCP servers across the fleet (groups)', () => q.mcpServers({ limit: 500 })],
    ['laptops running server X with a literal secret', () => q.mcpInstances({ package: '@modelcontextprotocol/server-github', posture: 'literal', limit: 100 })],
    ['MCP servers with a literal secret (groups)', () => q.mcpServers({ posture: 'literal', limit: 100 })],
    ['laptops running server X at version Y', () => q.mcpInstances({ package: '@acme/mcp-server-3', version: '1.2.0', limit: 100 })],
    ['MCP search "github"', () => q.mcpServers({ q: 'github', limit: 100 })],
    ['new and changed items (last hour)', () => q.changes({ since: Date.now() - 3_600_000, limit: 100 })],
    ['one device with its agents and MCP servers', () => q.device(someDevice).then((d) => ({ items: d ? [...d.agents, ...d.mcpServers] : [] }))],
    ['console overview (device states, last day, rollout)', () => store.consoleQueries.overview(Date.now()).then((o) => ({ items: [o] }))],
  ];
  return timeQueries(cases);
}

type QueryTiming = { name: string; rows: string; median: number; max: number };

/** Each query QUERY_RUNS times; the first run (cold) counts for the median only. */
async function timeQueries(cases: readonly (readonly [string, () => Promise<{ items: readonly unknown[] }>])[]): Promise<QueryTiming[]> {
  const out: QueryTiming[] = [];
  for (const [name, fn] of cases) {
    const samples: number[] = [];
    let rows = 0;
    for (let i = 0; i < QUERY_RUNS; i++) {
      const t = performance.now();
      rows = (await fn()).items.length;
      samples.push(performance.now() - t);
    }
    out.push({ name, rows: String(rows), median: percentile(samples, 50), max: Math.max(...samples.slice(1)) });
  }
  return out;
}

type BenchDevice = { call(method: string, path: string, body: string): Promise<Response> };

async function enroll(url: string, secret: string, hostname: string): Promise<BenchDevice> {
  const signer: Signer = createSigner(generatePrivateKey('ES256'), 'ES256');
  const { response, nonce: first } = await fetchWithDpop(fetch, `${url}/v1/enroll`, {
    signer, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret, device: { hostname, platform: 'linux', user: 'dev', agentVersion: '0.1.0' } }),
  });
  if (response.status !== 201) throw new Error(`enroll failed: ${response.status} ${await response.text()}`);
  const { accessToken } = (await response.json()) as EnrollResponse;
  let nonce = first;
  return {
    async call(method, path, body) {
      const result = await fetchWithDpop(fetch, `${url}${path}`, { signer, method, accessToken, ...(nonce ? { nonce } : {}), headers: { 'content-type': 'application/json' }, body });
      nonce = result.nonce;
      return result.response;
    },
  };
}

/** A plausible laptop: 2-4 agents, 6-10 MCP servers from a pool of 40 packages, ~5% literal secrets. */
function simulatedInventory(i: number): Inventory {
  const kinds = ['claude-code', 'codex', 'gemini-cli', 'cursor', 'cline'];
  const agents: AgentRecord[] = Array.from({ length: 2 + (i % 3) }, (_, k) => {
    const kind = kinds[(i + k) % kinds.length] ?? 'claude-code';
    const version = `1.${(i + k) % 4}.0`;
    return { id: `agent_${kind}_${i}`, kind, name: kind, installType: 'cli', version, path: `/usr/local/bin/${kind}`, source: 'npm-global', fingerprint: `${kind}-${version}` };
  });
  const mcpServers: McpServerRecord[] = Array.from({ length: 6 + (i % 5) }, (_, k) => {
    const n = (i * 7 + k * 3) % 40;
    const literal = (i + k) % 20 === 0;
    const pkg = n === 0 ? '@modelcontextprotocol/server-github' : `@acme/mcp-server-${n}`;
    return {
      id: `mcp_${i}_${k}`, client: k % 2 ? 'cursor' : 'claude-code', configPath: `/home/dev${i}/.cursor/mcp.json`, scope: 'user', project: null,
      name: n === 0 ? 'github' : `server-${n}`, transport: 'stdio', command: 'npx', args: ['-y', `${pkg}@1.${(i + n) % 3}.0`],
      envNames: literal ? ['API_TOKEN'] : [], headerNames: [],
      credential: { posture: literal ? 'literal' : 'none', findings: literal ? [{ location: 'env', name: 'API_TOKEN', posture: 'literal', kind: 'api-key' }] : [] },
      enabled: true, fingerprint: `fp-${n}-${(i + n) % 3}`,
    };
  });
  return {
    schemaVersion: 1, scannedAt: new Date().toISOString(), host: { hostname: `laptop-${String(i).padStart(5, '0')}`, platform: 'linux', user: `dev${i}`, home: `/home/dev${i}` },
    agents, mcpServers, errors: [], stats: { durationMs: 12, filesRead: 30, projectsScanned: 4 },
  };
}

function decision(action: 'allow' | 'deny', variant: number): DecisionAuditInput {
  return {
    principal: {
      attributed: true,
      chain: [
        { pid: 4242, ppid: 4241, exe: '/usr/bin/curl', argv: ['curl', '-s', `https://api${variant}.example.com/v1/items?page=2`], uid: 1000, user: 'dev', cwd: '/home/dev/project', startTimeMs: 1 },
        { pid: 4000, ppid: 1, exe: '/usr/local/bin/claude', argv: ['claude'], uid: 1000, user: 'dev', cwd: '/home/dev', startTimeMs: 1 },
      ],
      agent: { id: 'agent_0123456789abcdef', kind: 'claude-code', name: 'Claude Code', pid: 4000, exe: '/usr/local/bin/claude' },
    },
    request: { kind: 'https', host: `api${variant}.example.com`, port: 443, method: 'GET', path: '/v1/items?page=2' },
    decision: { action, rule: action === 'deny' ? 'fleet:no-paste' : 'user:allow-api', layer: action === 'deny' ? 'fleet' : 'user', reasons: [{ code: 'rule', message: `matched ${action}` }] },
    bytesUp: 512,
    bytesDown: 20_480,
    durationMs: 3.2,
    status: action === 'deny' ? 403 : 200,
  };
}

async function count(store: FleetStore): Promise<number> {
  return (await store.driver.get<{ n: number }>('SELECT count(*) AS n FROM devices'))?.n ?? 0;
}

function deviceCount(): number {
  const i = process.argv.indexOf('--devices');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 10_000;
  return Number.isSafeInteger(n) && n > 0 && n <= 100_000 ? n : 10_000;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
