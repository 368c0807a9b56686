// Opaque tunnels relayed by the kernel (app/proxy/spliceRelay.ts and its splice addon) and, for
// the same cases, relayed in JavaScript: every byte both ways, in order, under backpressure; the
// origin speaking first; half-close; resets; the proxy's close; bad input to the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpliceRelay, type KernelRelay } from '../../app/proxy/spliceRelay.ts';
import { requireAddon } from '../../app/util/nativeAddon.ts';
import type { RunningProxy } from '../../app/proxy/types.ts';
import { startHarness, type HarnessOptions } from './helpers/proxyHarness.ts';

const python = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-native.ts', import.meta.url));

/** Builds the addon with the real build script into a temporary file; why not, where it cannot be built here. */
function buildAddon(): { path: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'Linux only' };
  const path = join(mkdtempSync(join(tmpdir(), 'cordon-splice-')), 'splicerelay.node');
  const run = spawnSync(process.execPath, [BUILD_SCRIPT, '--force', '--only', 'splicerelay', '--out', path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`build-native failed: ${run.stdout}${run.stderr}`);
  return run.stdout.includes('built') ? { path } : { skip: run.stdout.trim() };
}
const addon = buildAddon();
const addonSkip = 'skip' in addon ? addon.skip : false;

const WAYS: { name: string; options: HarnessOptions; skip: string | false }[] = [
  { name: 'kernel relay', options: { kernelRelay: 'path' in addon ? addon.path : false }, skip: addonSkip },
  { name: 'JavaScript relay', options: { kernelRelay: false }, skip: false },
];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/**
 * A CONNECT tunnel through the proxy, paused, with any bytes that came with the 200 put back in
 * front (an origin that speaks first may be in the same read as the answer).
 */
function openTunnel(proxy: RunningProxy, authority: string): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, proxy.host);
    let buf = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('data', function onData(chunk: Buffer) {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.pause();
      socket.removeListener('data', onData);
      socket.removeListener('error', reject);
      if (buf.length > end + 4) socket.unshift(buf.subarray(end + 4));
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0) });
    });
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** An origin that says `greeting`, reads the client's side to its end, then answers with how many bytes it got and ends. */
function countingOrigin(greeting: string, answer: (bytes: number) => string): Server {
  return createServer({ allowHalfOpen: true }, (s) => {
    if (greeting !== '') s.write(greeting);
    readAll(s).then((got) => s.end(answer(got.length)), () => s.destroy());
  });
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Everything a socket sends until its end of stream, read slowly at first (bounded by the test's timeout). */
function readAll(socket: Socket, slowChunks = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (++seen < slowChunks) {
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      }
    });
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.resume();
  });
}

for (const way of WAYS) {
  test(`${way.name}: every byte both ways, in order, with the origin speaking first and a slow reader; the audit counts them`, { skip: way.skip, timeout: 60_000 }, async () => {
    const banner = Buffer.from('SSH-2.0-origin-speaks-first\r\n');
    const download = randomBytes(24 * 1024 * 1024 + 4321);
    const upload = randomBytes(16 * 1024 * 1024 + 1234);
    let uploaded = '';
    const origin = createServer({ allowHalfOpen: true }, (s) => {
      s.write(banner);
      // The upload is read in full (hashed) before the download is sent.
      readAll(s).then((got) => {
        uploaded = sha(got);
        s.end(download);
      }, () => s.destroy());
    });
    const h = await startHarness(way.options);
    try {
      const { socket, status } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      assert.equal(status, 200);
      // The banner arrives before the client has said anything.
      const first = await new Promise<Buffer>((resolve) => socket.once('readable', () => resolve(socket.read() as Buffer)));
      assert.deepEqual(first.subarray(0, banner.length), banner);
      if (first.length > banner.length) socket.unshift(first.subarray(banner.length));
      const received = readAll(socket, 200);
      socket.end(upload);
      const all = await received;
      assert.equal(all.length, download.length);
      assert.equal(sha(all), sha(download), 'the download arrived altered');
      assert.equal(uploaded, sha(upload), 'the upload arrived altered');
      socket.destroy();
      const [event] = await h.waitForEvents(1, 10_000);
      assert.equal(event?.outcome, 'forwarded');
      assert.equal(event?.bytesUp, upload.length);
      assert.equal(event?.bytesDown, banner.length + download.length);
    } finally {
      await h.close();
      origin.close();
    }
  });

  test(`${way.name}: half-close: the client ends its side and still gets the origin's answer`, { skip: way.skip, timeout: 30_000 }, async () => {
    const origin = countingOrigin('', (n) => `got ${n} bytes`);
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      const answer = readAll(socket);
      socket.end(Buffer.alloc(100_000, 1));
      assert.equal((await answer).toString(), 'got 100000 bytes');
      socket.destroy();
      const [event] = await h.waitForEvents(1, 10_000);
      assert.equal(event?.outcome, 'forwarded');
    } finally {
      await h.close();
      origin.close();
    }
  });

  test(`${way.name}: an origin that resets mid-stream fails the tunnel, and the audit says so`, { skip: way.skip, timeout: 30_000 }, async () => {
    const origin = createServer((s) => {
      s.write(Buffer.alloc(64 * 1024, 7), () => setTimeout(() => s.resetAndDestroy(), 50));
    });
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      socket.on('error', () => undefined);
      socket.resume();
      await new Promise((resolve) => socket.once('close', resolve));
      const [event] = await h.waitForEvents(1, 10_000);
      assert.equal(event?.outcome, 'failed');
      assert.equal(event?.error, 'the origin connection failed');
    } finally {
      await h.close();
      origin.close();
    }
  });

  test(`${way.name}: half-close: the origin keeps answering long after the client ended its side`, { skip: way.skip, timeout: 30_000 }, async () => {
    const chunks = 6;
    const origin = createServer({ allowHalfOpen: true }, (s) => {
      readAll(s).then(() => {
        let sent = 0;
        const timer = setInterval(() => {
          s.write(`chunk ${sent}\n`);
          if (++sent === chunks) {
            clearInterval(timer);
            s.end();
          }
        }, 250);
      }, () => s.destroy());
    });
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      const answer = readAll(socket);
      socket.end('request');
      const text = (await answer).toString();
      assert.equal(text.split('\n').filter(Boolean).length, chunks, text);
      socket.destroy();
      const [event] = await h.waitForEvents(1, 10_000);
      assert.equal(event?.outcome, 'forwarded');
      assert.equal(event?.bytesDown, text.length);
      assert.equal(event?.bytesUp, 'request'.length);
    } finally {
      await h.close();
      origin.close();
    }
  });

  test(`${way.name}: TCP urgent data neither stalls the tunnel nor loses what follows it`, { skip: way.skip || (!python && 'python3 not installed'), timeout: 30_000 }, async () => {
    // Python can send urgent (out-of-band) data; Node cannot. Normal reads skip the urgent byte.
    const script = [
      'import socket, sys, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)',
      'print(s.getsockname()[1], flush=True)',
      'c, _ = s.accept()',
      'c.sendall(b"A"); time.sleep(0.1)',
      'c.send(b"U", socket.MSG_OOB); time.sleep(0.1)',
      'c.sendall(b"BCD"); time.sleep(0.3)',
      'c.close()',
    ].join('\n');
    const child = spawn(python, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${port}`);
      assert.equal((await readAll(socket)).toString(), 'ABCD');
      socket.destroy();
      const [event] = await h.waitForEvents(1, 10_000);
      assert.equal(event?.outcome, 'forwarded');
      assert.equal(event?.bytesDown, 4);
    } finally {
      child.kill();
      await h.close();
    }
  });

  test(`${way.name}: through an upstream proxy, the origin's first bytes that came with the upstream's 200 arrive first`, { skip: way.skip, timeout: 30_000 }, async () => {
    // A stand-in corporate proxy: answers CONNECT and the origin's banner in one write, then echoes.
    const upstream = createServer((s) => {
      let head = '';
      const onData = (d: Buffer): void => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        s.removeListener('data', onData);
        s.write('HTTP/1.1 200 Connection established\r\n\r\nBANNER\n');
        s.pipe(s);
      };
      s.on('data', onData);
    });
    const upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`;
    const h = await startHarness({ ...way.options, upstream: { httpsProxy: upstreamUrl } });
    try {
      const { socket } = await openTunnel(h.proxy, 'speaks-first.example:22');
      const answer = readAll(socket);
      socket.end('ping\n');
      assert.equal((await answer).toString(), 'BANNER\nping\n');
      socket.destroy();
    } finally {
      await h.close();
      upstream.close();
    }
  });

  test(`${way.name}: closing the proxy records the tunnels it ends before it resolves`, { skip: way.skip, timeout: 30_000 }, async () => {
    const origin = createServer((s) => s.pipe(s));
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      socket.on('error', () => undefined);
      socket.write('echo me');
      await new Promise((resolve) => socket.once('readable', resolve));
      await h.close();
      assert.equal(h.events.length, 1, 'the audit event of the tunnel closed with the proxy');
      assert.equal(h.events[0]?.bytesUp, 'echo me'.length);
    } finally {
      origin.close();
    }
  });

  test(`${way.name}: closing the proxy ends open tunnels at once`, { skip: way.skip, timeout: 30_000 }, async () => {
    const origin = createServer((s) => s.write('hello'));
    const h = await startHarness(way.options);
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      socket.on('error', () => undefined);
      socket.resume();
      socket.write('still here');
      await new Promise((r) => setTimeout(r, 100));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      await h.close();
      await closed;
      if (way.options.kernelRelay !== false) {
        const relay = loadSpliceRelay(way.options.kernelRelay as string);
        assert.notEqual(typeof relay, 'string');
        if (typeof relay !== 'string') {
          for (let i = 0; i < 100 && relay.active() > 0; i++) await new Promise((r) => setTimeout(r, 20));
          assert.equal(relay.active(), 0, 'the kernel relay let go of both directions');
        }
      }
    } finally {
      origin.close();
    }
  });
}

test('the addon: bad descriptors and non-sockets are refused with an errno, never a crash', { skip: addonSkip, timeout: 20_000 }, async () => {
  const raw = requireAddon('path' in addon ? addon.path : '') as { relay(a: unknown, b: unknown): number; shutdown(fd: unknown, how: unknown): number; start(cb: unknown): void };
  assert.equal(typeof raw, 'object');
  // loadSpliceRelay starts it once per process; start() again is an error, not a second thread.
  assert.notEqual(typeof loadSpliceRelay('path' in addon ? addon.path : ''), 'string');
  assert.throws(() => raw.start(() => undefined), /already/);
  assert.ok(raw.relay(-1, 5) < 0);
  assert.ok(raw.relay('x', {}) < 0);
  assert.ok(raw.relay(3, 3) < 0);
  const dir = mkdtempSync(join(tmpdir(), 'cordon-splice-bad-'));
  const file = join(dir, 'f');
  writeFileSync(file, 'not a socket');
  const fd = openSync(file, 'r');
  const other = openSync(file, 'r');
  try {
    assert.equal(raw.relay(fd, other), -88, 'ENOTSOCK');
  } finally {
    closeSync(fd);
    closeSync(other);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(raw.shutdown(-1, 2) < 0);
  assert.ok(raw.shutdown(0, 7) < 0);
  assert.ok(raw.shutdown(null, 2) < 0);
  // A socket Node has already closed cannot be handed over.
  const relay = loadSpliceRelay('path' in addon ? addon.path : '');
  if (typeof relay === 'string') return;
  const server = createServer((s) => s.destroy());
  try {
    const a = connect(await listen(server), '127.0.0.1');
    await new Promise((r) => a.once('connect', r));
    const b = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => b.once('connect', r));
    a.destroy();
    const refused = await relay.relay(a, b);
    assert.ok('refused' in refused && refused.closed);
    assert.match(refused.refused, /descriptor/);
    b.destroy();
  } finally {
    server.close();
  }
});

test('a missing or broken addon: tunnels are relayed in JavaScript and still work', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-splice-missing-'));
  try {
    assert.match(String(loadSpliceRelay(join(dir, 'missing.node'))), /not built|Linux only/);
    const garbage = join(dir, 'garbage.node');
    writeFileSync(garbage, 'not an ELF file');
    assert.match(String(loadSpliceRelay(garbage)), /did not load|Linux only/);
    const origin = createServer((s) => s.end('from the origin'));
    const h = await startHarness({ kernelRelay: garbage });
    try {
      const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
      assert.equal((await readAll(socket)).toString(), 'from the origin');
      socket.destroy();
    } finally {
      await h.close();
      origin.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hand-off the kernel refuses (over the pipe quota, out of descriptors) is relayed in JavaScript instead', { skip: addonSkip, timeout: 30_000 }, async () => {
  const real = loadSpliceRelay('path' in addon ? addon.path : '');
  assert.notEqual(typeof real, 'string');
  if (typeof real === 'string') return;
  let calls = 0;
  // The download direction (asked first) is refused, the upload is taken.
  const refusing: KernelRelay = { ...real, relay: async (from, to) => (++calls === 1 ? { refused: 'test refusal', closed: false } : real.relay(from, to)) };
  const origin = countingOrigin('hello ', (n) => `got ${n}`);
  const h = await startHarness({ kernelRelay: refusing });
  try {
    const { socket } = await openTunnel(h.proxy, `127.0.0.1:${await listen(origin)}`);
    const answer = readAll(socket);
    socket.end(Buffer.alloc(50_000, 2));
    assert.equal((await answer).toString(), 'hello got 50000');
    socket.destroy();
    const [event] = await h.waitForEvents(1, 10_000);
    assert.equal(event?.outcome, 'forwarded');
    assert.equal(event?.bytesUp, 50_000);
    assert.equal(event?.bytesDown, 'hello got 50000'.length);
    assert.equal(calls, 2);
  } finally {
    await h.close();
    origin.close();
  }
});
