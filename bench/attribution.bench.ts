// Connection attribution cost on Linux: from an accepted socket to a Principal (socket lookup in
// /proc/net/tcp, owner pid from the fd links, parent chain, agent match). Baseline in the same run:
// one plain readFileSync('/proc/net/tcp'), the floor any /proc-based lookup pays. The socket lookup
// is sock_diag through the in-process addon when it is built (scripts/build-native.ts), else through
// the python3 helper; the cache miss is also measured through the helper and through the table scan.
// Scenarios: a new process (cache miss, the common case), an old process with every cache cleared
// (worst case: its pid is scanned last), a known process opening a new connection (warm), and the
// same connection again. Extra idle processes stand in for a developer machine's process table.
// Target (issue 4): attribution <= 1 ms on a cache miss. Usage: node bench/attribution.bench.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createAttributor, type Attributor, type ConnectionEndpoints } from '../app/attribution/index.ts';
import { createLinuxSource } from '../app/attribution/linux/linuxSource.ts';
import { loadNativeSockDiag } from '../app/attribution/linux/nativeSockDiag.ts';
import { createSockDiag } from '../app/attribution/linux/sockDiag.ts';
import { percentile, printTable } from './report.ts';

const SAMPLES = 40;
const LOAD_PROCESSES = Number(process.env.CORDON_BENCH_PROCS ?? 200);
const TARGET_MS = 1;

const CLIENT = `
const net = require('node:net');
const port = Number(process.argv[1]);
const keep = [];
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { for (const _ of d.split('\\n').filter(Boolean)) keep.push(net.connect(port, '127.0.0.1')); });
process.stdin.on('end', () => process.exit(0));
`;

export async function run(): Promise<void> {
  if (process.platform !== 'linux') {
    process.stdout.write('attribution benchmark: Linux only (macOS and Windows spawn lsof/ps/netstat per lookup)\n');
    return;
  }
  const children: ChildProcess[] = [];
  const attributors: Attributor[] = [];
  const server = createServer();
  const pending: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  server.on('connection', (s) => {
    s.on('error', () => {});
    const w = waiters.shift();
    if (w) w(s);
    else pending.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const nextSocket = (): Promise<Socket> => {
    const s = pending.shift();
    return s ? Promise.resolve(s) : new Promise((resolve) => waiters.push(resolve));
  };

  try {
    // The long-lived client starts before the load, so its pid is older than every load process.
    const oldClient = spawn(process.execPath, ['-e', CLIENT, String(port)], { stdio: ['pipe', 'ignore', 'inherit'] });
    children.push(oldClient);
    for (let i = 0; i < LOAD_PROCESSES; i++) children.push(spawn('sleep', ['120'], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 300));
    const processCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;

    const baseline = measureSync(200, () => readFileSync('/proc/net/tcp', 'latin1'));
    const attributor = createAttributor({ inventory: () => null });
    const tableOnly = createAttributor({ inventory: () => null, sockDiag: false });
    const addonBuilt = typeof loadNativeSockDiag() === 'function';
    // When the addon is the default, the python3 helper is measured beside it.
    const helperOnly = addonBuilt ? createAttributor({ inventory: () => null, source: createLinuxSource({ sockDiag: createSockDiag({ native: false }) }) }) : null;
    attributors.push(attributor, tableOnly, ...(helperOnly ? [helperOnly] : []));

    const timeOne = async (conn: ConnectionEndpoints, which = attributor): Promise<number> => {
      const started = performance.now();
      const principal = await which.attribute(conn);
      const ms = performance.now() - started;
      if (!principal.attributed) throw new Error(`not attributed: ${principal.reason}`);
      return ms;
    };

    // The sock_diag helper starts on first use; wait (bounded) until it answers.
    oldClient.stdin?.write('c\n');
    const warmup = endpoints(await nextSocket());
    for (const which of [attributor, ...(helperOnly ? [helperOnly] : [])]) {
      for (let i = 0; i < 100 && which.stats().netlinkLookups === 0; i++) {
        await timeOne(warmup, which);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const lookupPath = attributor.stats().netlinkLookups === 0 ? '/proc/net/tcp scan (no addon, no python3)' : addonBuilt ? 'sock_diag (in-process addon)' : 'sock_diag (python3 helper; the addon is not built)';

    // 1. New process per connection (cache miss: the socket and the process are new).
    const hasBash = spawnSync('sh', ['-c', 'command -v bash'], { stdio: 'ignore' }).status === 0;
    const fresh: number[] = [];
    const freshTable: number[] = [];
    const freshHelper: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const child = hasBash
        ? spawn('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; exec sleep 30`], { stdio: 'ignore' })
        : spawn(process.execPath, ['-e', `require('net').connect(${port},'127.0.0.1');setTimeout(()=>{},30000)`], { stdio: 'ignore' });
      children.push(child);
      const socket = await nextSocket();
      // Rotate which attributor goes first: the first one pays for the kernel's first look at the
      // new process's /proc entries, and none should always find the others' warm caches.
      const order: [Attributor, number[]][] = [[attributor, fresh], [tableOnly, freshTable], ...(helperOnly ? [[helperOnly, freshHelper] as [Attributor, number[]]] : [])];
      for (let k = 0; k < order.length; k++) {
        const [which, samples] = order[(i + k) % order.length] as [Attributor, number[]];
        samples.push(await timeOne(endpoints(socket), which));
      }
      child.kill('SIGKILL');
      socket.destroy();
    }

    // 2. Old process, every cache cleared (worst case: its pid is scanned after all newer ones).
    const cold: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      oldClient.stdin?.write('c\n');
      const socket = await nextSocket();
      attributor.clearCaches();
      cold.push(await timeOne(endpoints(socket)));
    }

    // 3. Known process, new connection (warm: recent owners are tried first; chain entries cached).
    const warm: number[] = [];
    const sameConn: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      oldClient.stdin?.write('c\n');
      const socket = await nextSocket();
      warm.push(await timeOne(endpoints(socket)));
      // 4. The same connection again (known inode, verified with one readlink).
      sameConn.push(await timeOne(endpoints(socket)));
    }

    const base50 = percentile(baseline, 50);
    const row = (name: string, samples: number[], target = ''): string[] => [
      name,
      fmt(percentile(samples, 50)),
      fmt(percentile(samples, 99)),
      `${(percentile(samples, 50) / base50).toFixed(1)}x`,
      target,
    ];
    process.stdout.write(`processes in /proc: ${processCount} (${LOAD_PROCESSES} idle load processes added); socket lookup: ${lookupPath}; ${SAMPLES} samples each\n`);
    printTable(['measure', 'p50 ms', 'p99 ms', 'ratio to baseline p50', 'target'], [
      row("baseline: readFileSync('/proc/net/tcp')", baseline),
      row('new process, new connection (cache miss)', fresh, `<= ${TARGET_MS} ms`),
      ...(helperOnly ? [row('  same, sock_diag through the python3 helper', freshHelper)] : []),
      row('  same, /proc/net/tcp scan instead of sock_diag', freshTable),
      row('old process, all caches cleared (worst case: full fd scan)', cold),
      row('known process, new connection (warm)', warm),
      row('same connection again', sameConn),
    ]);
    const miss = percentile(fresh, 50);
    process.stdout.write(`${miss <= TARGET_MS ? 'meets' : 'MISSES'} the ${TARGET_MS} ms cache-miss target (p50 ${fmt(miss)} ms); stats ${JSON.stringify(attributor.stats())}\n`);
  } finally {
    for (const a of attributors) a.close();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const s of pending) s.destroy();
    server.close();
  }
}

function endpoints(socket: Socket): ConnectionEndpoints {
  return { localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
}

function measureSync(rounds: number, fn: () => unknown): number[] {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

function fmt(ms: number): string {
  return ms < 0.1 ? ms.toFixed(4) : ms.toFixed(3);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
