import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { canonicalIp } from '../../app/attribution/address.ts';
import { createLinuxSource } from '../../app/attribution/linux/linuxSource.ts';
import { loadNativeSockDiag } from '../../app/attribution/linux/nativeSockDiag.ts';
import { createSockDiag, type SockDiag, type SockDiagOptions, type SockDiagQuery } from '../../app/attribution/linux/sockDiag.ts';

const linux = process.platform === 'linux';
const python = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-native.ts', import.meta.url));

/**
 * Builds the addon with the real build script into a temporary file (independent of setup's
 * build). Its path, or why it cannot be built here (no compiler or headers: the script says so and
 * exits 0). A failing compile throws: that is a bug, not an environment.
 */
function buildAddon(): { path: string } | { skip: string } {
  if (!linux) return { skip: 'Linux only' };
  const path = join(mkdtempSync(join(tmpdir(), 'cordon-addon-')), 'sockdiag.node');
  const run = spawnSync(process.execPath, [BUILD_SCRIPT, '--force', '--only', 'sockdiag', '--out', path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`build-native failed: ${run.stdout}${run.stderr}`);
  return run.stdout.includes('built') ? { path } : { skip: run.stdout.trim() };
}
const addon = buildAddon();

/** Both ways to sock_diag: the in-process addon and the python3 helper. */
const WAYS: { name: string; options: SockDiagOptions; skip: string | false }[] = [
  { name: 'addon', options: 'path' in addon ? { native: addon.path } : {}, skip: 'skip' in addon ? addon.skip : false },
  { name: 'python3 helper', options: { native: false }, skip: (!linux && 'Linux only') || (!python && 'python3 not installed') },
];

/** The helper answers "starting" until it has said ready: poll a few times (bounded). */
async function lookupReady(diag: SockDiag, query: SockDiagQuery): Promise<Awaited<ReturnType<SockDiag['lookup']>>> {
  for (let i = 0; i < 100; i++) {
    const answer = await diag.lookup(query);
    if (answer.kind !== 'unavailable' || !answer.message.includes('starting')) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
  return diag.lookup(query);
}

for (const way of WAYS) test(`sock_diag exact lookup (${way.name}): the client socket of a live loopback connection, and not-found for a wrong port`, { skip: way.skip, timeout: 20_000 }, async () => {
  const server = createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = createConnection(port, '127.0.0.1');
  await once(client, 'connect');
  const diag = createSockDiag(way.options);
  assert.equal(diag.via, way.name);
  try {
    const query = { localIp: '127.0.0.1', localPort: client.localPort ?? 0, remoteIp: '127.0.0.1', remotePort: port };
    const found = await lookupReady(diag, query);
    assert.equal(found.kind, 'found', JSON.stringify(found));
    if (found.kind === 'found') {
      assert.equal(found.state, 1); // ESTABLISHED
      assert.equal(found.uid, process.getuid?.());
      assert.ok(found.inode > 0);
    }
    // The other end of the same connection is a different socket with its own inode.
    const serverEnd = await diag.lookup({ localIp: '127.0.0.1', localPort: port, remoteIp: '127.0.0.1', remotePort: query.localPort });
    assert.ok(serverEnd.kind === 'found' && found.kind === 'found' && serverEnd.inode !== found.inode);
    assert.deepEqual(await diag.lookup({ ...query, remotePort: port === 65535 ? 1 : port + 1 }), { kind: 'not-found' });
  } finally {
    diag.close();
    client.destroy();
    server.close();
  }
  assert.deepEqual(await diag.lookup({ localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 }), { kind: 'unavailable', message: 'closed' });
});

test('a missing interpreter makes the helper unavailable, and the source falls back to /proc/net/tcp', { skip: !linux && 'Linux only', timeout: 20_000 }, async () => {
  const diag = createSockDiag({ native: false, python: '/nonexistent/python3' });
  const server = createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = createConnection(port, '127.0.0.1');
  await once(client, 'connect');
  const source = createLinuxSource({ sockDiag: diag });
  try {
    const first = await diag.lookup({ localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 });
    assert.equal(first.kind, 'unavailable');
    await new Promise((r) => setTimeout(r, 100));
    const again = await diag.lookup({ localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 });
    assert.equal(again.kind, 'unavailable');
    const owner = await source.findSocketOwner({ localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: client.localPort ?? 0 }, { allowOtherUsers: false });
    assert.deepEqual(owner, { found: true, pid: process.pid });
    assert.equal(source.counters().tableScans, 1);
    assert.equal(source.counters().netlinkLookups, 0);
  } finally {
    source.close();
    client.destroy();
    server.close();
  }
});

for (const way of WAYS) test(`sock_diag (${way.name}): IPv6 loopback, and an IPv4 client of a dual-stack listener`, { skip: way.skip, timeout: 20_000 }, async (t) => {
  const diag = createSockDiag(way.options);
  try {
    for (const [listenOn, connectTo] of [['::1', '::1'], ['::', '127.0.0.1']] as const) {
      const server = createServer((s) => s.on('error', () => {}));
      try {
        server.listen(0, listenOn);
        await once(server, 'listening');
      } catch {
        t.diagnostic(`IPv6 unavailable: ${listenOn} skipped`);
        continue;
      }
      const port = (server.address() as { port: number }).port;
      const connection = once(server, 'connection') as Promise<[Socket]>;
      const client = createConnection(port, connectTo);
      try {
        const [accepted] = await connection;
        // The attributor's view: canonical IPs of the client end, as the proxy's socket reports them.
        const found = await lookupReady(diag, {
          localIp: canonicalIp(accepted.remoteAddress ?? '') ?? '',
          localPort: accepted.remotePort ?? 0,
          remoteIp: canonicalIp(accepted.localAddress ?? '') ?? '',
          remotePort: port,
        });
        assert.equal(found.kind, 'found', `${listenOn} <- ${connectTo}: ${JSON.stringify(found)}`);
        accepted.destroy();
      } finally {
        client.destroy();
        server.close();
      }
    }
  } finally {
    diag.close();
  }
});

test('a helper that stops answering is given up after the timeout (the caller falls back), not waited on', { skip: !linux && 'Linux only', timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-sockdiag-'));
  const fake = join(dir, 'python3');
  writeFileSync(fake, '#!/bin/sh\necho ready\nexec sleep 30\n');
  chmodSync(fake, 0o755);
  const diag = createSockDiag({ native: false, python: fake, timeoutMs: 100 });
  try {
    const query = { localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 };
    const started = performance.now();
    const answer = await lookupReady(diag, query);
    assert.equal(answer.kind, 'unavailable');
    assert.match(answer.kind === 'unavailable' ? answer.message : '', /did not answer in 100 ms/);
    assert.ok(performance.now() - started < 5000);
    // Given up: the next lookups answer at once instead of waiting again.
    const t = performance.now();
    assert.equal((await diag.lookup(query)).kind, 'unavailable');
    assert.ok(performance.now() - t < 50);
  } finally {
    diag.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the addon: bad input is an answer (unavailable), never a throw; a missing or broken addon falls back to the helper', { skip: 'skip' in addon ? addon.skip : false, timeout: 20_000 }, () => {
  const lookup = loadNativeSockDiag('path' in addon ? addon.path : '');
  assert.equal(typeof lookup, 'function');
  if (typeof lookup !== 'function') return;
  for (const query of [
    { localIp: 'not-an-ip', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 },
    { localIp: '127.0.0.1', localPort: 70_000, remoteIp: '127.0.0.1', remotePort: 2 },
    { localIp: '::1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 },
    { localIp: '1'.repeat(200), localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 },
  ]) {
    const answer = lookup(query);
    assert.equal(answer.kind, 'unavailable', JSON.stringify(query));
  }
  assert.deepEqual(lookup({ localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2 }), { kind: 'not-found' });

  const dir = mkdtempSync(join(tmpdir(), 'cordon-addon-bad-'));
  try {
    const missing = loadNativeSockDiag(join(dir, 'missing.node'));
    assert.match(String(missing), /addon not built/);
    const garbage = join(dir, 'garbage.node');
    writeFileSync(garbage, 'not a shared object');
    assert.match(String(loadNativeSockDiag(garbage)), /addon did not load/);
    const diag = createSockDiag({ native: garbage, python: '/nonexistent/python3' });
    assert.equal(diag.via, 'python3 helper');
    diag.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
