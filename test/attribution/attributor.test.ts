import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Inventory } from '../../app/api/inventory.ts';
import { createDarwinSource } from '../../app/attribution/darwin.ts';
import { createAttributor, type Attributor, type AttributorOptions, type ConnectionEndpoints } from '../../app/attribution/index.ts';
import { main } from '../../app/cli/main.ts';
import { agent, inventoryOf } from '../discovery/inventoryFixtures.ts';

const linux = process.platform === 'linux';
/** Every child this file starts; killed at the end even when a test fails half-way. */
const children = new Set<ChildProcess>();
const attributors: Attributor[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const a of attributors) a.close();
});

/** createAttributor, closed when the file ends (it may start the sock_diag helper). */
function make(options: AttributorOptions): Attributor {
  const attributor = createAttributor(options);
  attributors.push(attributor);
  return attributor;
}
const curlPath = which('curl');
const lsofPath = which('lsof');
const python = which('python3');

/** Opens `count` connections to host:port, prints "ready <pid>" and waits for stdin to close. */
const CLIENT = `
const net = require('node:net');
const [host, port, count] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] || 1)];
let open = 0;
for (let i = 0; i < count; i++) net.connect(port, host, () => { if (++open === count) process.stdout.write('ready ' + process.pid + '\\n'); }).on('error', () => process.exit(2));
process.stdin.on('end', () => process.exit(0)).resume();
`;

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? realpathSync(r.stdout.trim()) : null;
}

function endpoints(socket: Socket): ConnectionEndpoints {
  return { localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
}

async function listen(host: string): Promise<{ server: Server; port: number; accepted: Socket[]; next: () => Promise<Socket> }> {
  const server = createServer();
  const accepted: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  server.on('connection', (s) => {
    accepted.push(s);
    s.on('error', () => {});
    const w = waiters.shift();
    if (w) w(s);
  });
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let taken = 0;
  const next = (): Promise<Socket> => {
    const ready = accepted[taken];
    if (ready) {
      taken++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => waiters.push((s) => {
      taken++;
      resolve(s);
    }));
  };
  return { server, port, accepted, next };
}

async function close(server: Server, accepted: Socket[]): Promise<void> {
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
}

/** Spawns the node client (optionally under `bash -c`), resolves with its pid once its sockets are connected. */
async function nodeClient(host: string, port: number, count = 1, underBash = false): Promise<{ child: ChildProcess; pid: number }> {
  const args = ['-e', CLIENT, host, String(port), String(count)];
  const child = underBash
    ? spawn('bash', ['-c', '"$0" "$@"; exit $?', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8');
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: string) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`client exited early (${code})`)));
  });
  return { child, pid };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

const emptyInventory: Inventory = inventoryOf([], []);

for (const sockDiag of [true, false]) {
test(`a node client under bash (${sockDiag ? 'sock_diag' : '/proc/net/tcp'}): pid, exe, argv, cwd and a chain of node <- bash <- this test process`, { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  const { server, port, accepted, next } = await listen('127.0.0.1');
  const attributor = make({ inventory: () => emptyInventory, sockDiag });
  try {
    const { child, pid } = await nodeClient('127.0.0.1', port, 1, true);
    const conn = endpoints(await next());
    const principal = await attributor.attribute(conn);
    assert.equal(principal.attributed, true, principal.reason);
    const [self, bash, test] = principal.chain;
    assert.equal(self?.pid, pid);
    assert.equal(self?.exe, realpathSync(process.execPath));
    assert.deepEqual(self?.argv.slice(0, 2), [process.execPath, '-e']);
    assert.equal(self?.cwd, process.cwd());
    assert.equal(self?.uid, process.getuid?.());
    assert.equal(self?.user, userInfo().username);
    assert.ok((self?.startTimeMs ?? 0) > Date.now() - 60_000 && (self?.startTimeMs ?? 0) <= Date.now() + 1000, 'start time is recent');
    assert.equal(bash?.pid, child.pid);
    assert.match(bash?.exe ?? '', /\/bash$/);
    assert.equal(self?.ppid, bash?.pid);
    assert.equal(test?.pid, process.pid);
    assert.equal(principal.agent, null);
    if (!sockDiag) assert.equal(attributor.stats().tableScans, 1);
    if (sockDiag && python) {
      // The helper starts on first use (that lookup scanned the table); later ones go through netlink.
      let again = principal;
      for (let i = 0; i < 100 && attributor.stats().netlinkLookups === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        again = await attributor.attribute(conn);
      }
      assert.ok(attributor.stats().netlinkLookups > 0, 'sock_diag answered');
      assert.deepEqual(again.chain.map((p) => p.pid), principal.chain.map((p) => p.pid));
    }
    await stop(child);
  } finally {
    await close(server, accepted);
  }
});
}

test('curl under bash in its own cwd: /usr/bin/curl, its argv, and the chain', { skip: (!linux && 'Linux /proc only') || (!curlPath && 'curl not installed'), timeout: 20_000 }, async () => {
  const { server, port, accepted, next } = await listen('127.0.0.1');
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'cordon-attr-cwd-')));
  const attributor = make({ inventory: () => emptyInventory });
  try {
    const url = `http://127.0.0.1:${port}/x`;
    const bash = spawn('bash', ['-c', `curl -s -m 10 -o /dev/null ${url}; exit $?`], { cwd, stdio: 'ignore' });
    children.add(bash);
    const socket = await next();
    const principal = await attributor.attribute(endpoints(socket));
    socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    await once(bash, 'exit');
    assert.equal(principal.attributed, true, principal.reason);
    const [curl, shell, test] = principal.chain;
    assert.equal(curl?.exe, curlPath);
    assert.deepEqual(curl?.argv, ['curl', '-s', '-m', '10', '-o', '/dev/null', url]);
    assert.equal(curl?.cwd, cwd);
    assert.equal(shell?.pid, bash.pid);
    assert.equal(curl?.ppid, bash.pid);
    assert.equal(test?.pid, process.pid);
  } finally {
    await close(server, accepted);
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('a fake claude (bash script on PATH running curl) is the agent: by inventory path, and by name without inventory', { skip: (!linux && 'Linux /proc only') || (!curlPath && 'curl not installed'), timeout: 20_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cordon-attr-agent-')));
  mkdirSync(join(root, 'bin'));
  const script = join(root, 'bin', 'claude');
  writeFileSync(script, '#!/bin/bash\ncurl -s -m 10 -o /dev/null "$1"\nexit $?\n');
  chmodSync(script, 0o755);
  const inventory = inventoryOf([agent('claude-code', { id: 'agent_test_claude', name: 'Claude Code', path: script })], []);
  const withInventory = make({ inventory: () => inventory });
  const withoutInventory = make({ inventory: () => null });
  const otherInventory = make({ inventory: () => inventoryOf([agent('codex', { path: join(root, 'bin', 'codex') })], []) });
  const { server, port, accepted, next } = await listen('127.0.0.1');
  try {
    const outer = spawn('bash', ['-c', 'claude "$0"; exit $?', `http://127.0.0.1:${port}/`], { env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}` }, stdio: 'ignore' });
    children.add(outer);
    const socket = await next();
    const conn = endpoints(socket);
    const [byPath, byName, none] = await Promise.all([withInventory.attribute(conn), withoutInventory.attribute(conn), otherInventory.attribute(conn)]);
    socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    await once(outer, 'exit');

    assert.equal(byPath.chain[0]?.exe, curlPath);
    const scriptProc = byPath.chain[1];
    // The kernel runs the script as `/bin/bash <script path> <url>`: the interpreter's argv[1] is the agent.
    assert.match(scriptProc?.exe ?? '', /\/bash$/);
    assert.equal(scriptProc?.argv[1], script);
    assert.deepEqual(byPath.agent, { id: 'agent_test_claude', kind: 'claude-code', name: 'Claude Code', pid: scriptProc?.pid, exe: scriptProc?.exe });
    assert.equal(byPath.chain[2]?.pid, outer.pid);
    assert.equal(byName.agent?.id, 'kind:claude-code');
    assert.equal(byName.agent?.pid, scriptProc?.pid);
    assert.equal(none.attributed, true);
    assert.equal(none.agent, null);
  } finally {
    await close(server, accepted);
    rmSync(root, { recursive: true, force: true });
  }
});

test('a socket closed before the lookup is unattributed with a reason, never a throw', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  const { server, port, accepted, next } = await listen('127.0.0.1');
  const attributor = make({ inventory: () => emptyInventory });
  try {
    const child = spawn(process.execPath, ['-e', `require('node:net').connect(${port}, '127.0.0.1', () => process.exit(0))`], { stdio: 'ignore' });
    children.add(child);
    const socket = await next();
    const conn = endpoints(socket);
    await once(child, 'exit');
    if (!socket.readableEnded) await once(socket, 'end');
    socket.destroy();
    const principal = await attributor.attribute(conn);
    assert.equal(principal.attributed, false);
    assert.match(principal.reason ?? '', /^(socket-not-found|socket-orphaned|owner-not-found|process-exited): /);
    assert.deepEqual(principal.chain, []);
    assert.equal(principal.agent, null);
    // Junk in, a labelled principal out.
    const junk = await attributor.attribute({} as ConnectionEndpoints);
    assert.equal(junk.attributed, false);
    assert.match(junk.reason ?? '', /^bad-input: /);
    assert.match((await attributor.attributePid(0)).reason ?? '', /^bad-input: /);
  } finally {
    await close(server, accepted);
  }
});

test('IPv6 loopback and a dual-stack listener (IPv4 clients seen as ::ffff:127.0.0.1)', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async (t) => {
  const attributor = make({ inventory: () => emptyInventory });
  for (const [listenOn, connectTo] of [['::1', '::1'], ['::', '127.0.0.1']] as const) {
    let l: Awaited<ReturnType<typeof listen>>;
    try {
      l = await listen(listenOn);
    } catch {
      t.diagnostic(`IPv6 unavailable: ${listenOn} skipped`);
      continue;
    }
    try {
      const { child, pid } = await nodeClient(connectTo, l.port);
      const socket = await l.next();
      const principal = await attributor.attribute(endpoints(socket));
      assert.equal(principal.chain[0]?.pid, pid, `${listenOn} <- ${connectTo}: ${principal.reason ?? ''}`);
      await stop(child);
    } finally {
      await close(l.server, l.accepted);
    }
  }
});

test('many connections from one process: all attributed, and after the first scan the rest come from the cache', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  const { server, port, accepted, next } = await listen('127.0.0.1');
  const attributor = make({ inventory: () => emptyInventory });
  try {
    const { child, pid } = await nodeClient('127.0.0.1', port, 12);
    const sockets = await Promise.all(Array.from({ length: 12 }, () => next()));
    const first = await attributor.attribute(endpoints(sockets[0] as Socket));
    assert.equal(first.chain[0]?.pid, pid);
    const rest = await Promise.all(sockets.slice(1).map((s) => attributor.attribute(endpoints(s))));
    assert.deepEqual(rest.map((p) => p.chain[0]?.pid), new Array(11).fill(pid));
    const stats = attributor.stats();
    assert.equal(stats.ownerScans, 1);
    assert.equal(stats.ownerCacheHits, 11);
    assert.ok(stats.processCacheHits > 0);
    await stop(child);
  } finally {
    await close(server, accepted);
  }
});

test('the macOS source (lsof -F and ps) finds the right process when those tools exist here', { skip: (!lsofPath && 'lsof not installed') || (process.platform === 'win32' && 'no lsof'), timeout: 20_000 }, async () => {
  const { server, port, accepted, next } = await listen('127.0.0.1');
  try {
    const { child, pid } = await nodeClient('127.0.0.1', port);
    const source = createDarwinSource();
    const owner = await source.findSocketOwner(endpoints(await next()), { allowOtherUsers: false });
    assert.deepEqual(owner, { found: true, pid });
    const proc = await source.readProcess(pid);
    assert.equal(proc?.info.ppid, process.pid);
    assert.equal(proc?.info.argv[1], '-e');
    assert.equal(proc?.info.cwd, process.cwd());
    await stop(child);
  } finally {
    await close(server, accepted);
  }
});

test('cordon attribution --pid / --port in-process, and usage errors', { timeout: 30_000 }, async () => {
  const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const sink = (f: (s: string) => void): Writable => new Writable({ write: (chunk, _enc, cb) => (f(String(chunk)), cb()) });
    const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
    return { code, out, err };
  };
  if (linux) {
    const self = await run(['attribution', '--pid', String(process.pid), '--json', '--no-scan']);
    assert.equal(self.code, 0, self.err);
    const parsed = JSON.parse(self.out) as { principal: { attributed: boolean; chain: { pid: number; exe: string }[] }; inventory: boolean };
    assert.equal(parsed.principal.chain[0]?.pid, process.pid);
    assert.equal(parsed.principal.chain[0]?.exe, realpathSync(process.execPath));
    assert.equal(parsed.inventory, false);

    const { server, port, accepted, next } = await listen('127.0.0.1');
    try {
      const { child, pid } = await nodeClient('127.0.0.1', port);
      // The client's end of the connection uses an ephemeral local port: the server's remote port.
      const clientPort = (await next()).remotePort ?? 0;
      const text = await run(['attribution', '--port', String(clientPort), '--no-scan']);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, new RegExp(`127\\.0\\.0\\.1:${clientPort} -> 127\\.0\\.0\\.1:${port}  ESTABLISHED  pid ${pid}`));
      assert.match(text.out, new RegExp(`chain: node\\(${pid}\\) <- node\\(${process.pid}\\)`));
      await stop(child);
    } finally {
      await close(server, accepted);
    }
  }
  const gone = await run(['attribution', '--pid', '2147483646', '--no-scan']);
  assert.equal(gone.code, 1);
  assert.match(gone.out, /not attributed: (process-exited|unsupported-platform)/);
  for (const bad of [['attribution'], ['attribution', '--pid', '1', '--port', '2'], ['attribution', '--pid', 'abc'], ['attribution', '--port', '70000']]) {
    const r = await run(bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.match(r.err, /usage: cordon attribution/);
  }
});
