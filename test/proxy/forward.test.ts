import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import type { Principal } from '../../app/api/enforcement.ts';
import type { ConnectionInfo } from '../../app/proxy/types.ts';
import { ALLOW, deny, rawExchange, startHarness, TEST_PRINCIPAL, viaProxy } from './helpers/proxyHarness.ts';
import { startHttpOrigin } from './helpers/origins.ts';

test('an allowed absolute-form request reaches the origin with hop-by-hop fields removed, and is recorded without secrets', async () => {
  const h = await startHarness();
  const origin = await startHttpOrigin();
  try {
    const reply = await viaProxy(h.proxy, `${origin.url}/echo?token=s3cret`, {
      method: 'POST',
      body: 'hello',
      headers: { Connection: 'keep-alive, X-Private', 'X-Private': 'drop me', 'Proxy-Authorization': 'Basic c2VjcmV0', Authorization: 'Bearer keep-me', 'X-Keep': '1' },
    });
    assert.equal(reply.status, 200);
    const echoed = JSON.parse(reply.body.toString()) as { method: string; url: string; headers: Record<string, string>; body: string };
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.url, '/echo?token=s3cret');
    assert.equal(echoed.body, 'hello');
    assert.equal(echoed.headers['x-private'], undefined);
    assert.equal(echoed.headers['proxy-authorization'], undefined);
    assert.equal(echoed.headers['x-keep'], '1');
    assert.equal(echoed.headers.authorization, 'Bearer keep-me');
    assert.equal(echoed.headers.host, `127.0.0.1:${origin.port}`);
    assert.match(echoed.headers.via ?? '', /cordon/);
    // The policy saw method, path and headers.
    assert.equal(h.decided[0]?.kind, 'http');
    assert.equal(h.decided[0]?.method, 'POST');
    assert.equal(h.decided[0]?.path, '/echo?token=s3cret');
    assert.equal((h.decided[0]?.headers as Record<string, string>)['x-keep'], '1');
    const [event] = await h.waitForEvents(1);
    assert.equal(event?.outcome, 'forwarded');
    assert.equal(event?.status, 200);
    assert.equal(event?.bytesUp, 5);
    assert.ok((event?.bytesDown ?? 0) > 0);
    assert.equal(event?.request.path, '/echo');
    assert.equal(event?.request.headers, undefined);
    const text = JSON.stringify(event);
    assert.ok(!text.includes('s3cret') && !text.includes('keep-me') && !text.includes('c2VjcmV0'));
  } finally {
    await h.close();
    await origin.close();
  }
});

test('a denied request gets a 403 at once naming Cordon, the rule, the reason and the audit id; the origin never sees it', async () => {
  const h = await startHarness({ decide: () => deny('managed:no-paste-sites', 'paste sites are blocked') });
  const origin = await startHttpOrigin();
  try {
    const started = Date.now();
    const reply = await viaProxy(h.proxy, `${origin.url}/echo`);
    assert.ok(Date.now() - started < 2000);
    assert.equal(reply.status, 403);
    assert.equal(reply.headers['x-cordon-decision'], 'deny');
    assert.equal(reply.headers['x-cordon-rule'], 'managed:no-paste-sites');
    assert.equal(reply.headers['x-cordon-audit-id'], 'audit-1');
    const body = reply.body.toString();
    assert.match(body, /Cordon/);
    assert.match(body, /managed:no-paste-sites/);
    assert.match(body, /paste sites are blocked/);
    assert.match(body, /audit-1/);
    assert.equal(origin.seen.length, 0);
    assert.equal(h.events[0]?.outcome, 'blocked');
    assert.equal(h.events[0]?.status, 403);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('a slow decision (an approval) waits and then allows; one past the deadline is denied, never a hang', async () => {
  let slowMs = 300;
  const h = await startHarness({
    limits: { decideTimeoutMs: 1000 },
    decide: () => new Promise((resolve) => setTimeout(() => resolve(ALLOW), slowMs)),
  });
  const origin = await startHttpOrigin();
  try {
    const t0 = Date.now();
    const allowed = await viaProxy(h.proxy, `${origin.url}/echo`);
    assert.equal(allowed.status, 200);
    assert.ok(Date.now() - t0 >= 280);
    slowMs = 5000;
    const t1 = Date.now();
    const timedOut = await viaProxy(h.proxy, `${origin.url}/echo`);
    const waited = Date.now() - t1;
    assert.equal(timedOut.status, 403);
    assert.ok(waited >= 950 && waited < 3000, `waited ${waited} ms`);
    assert.equal(timedOut.headers['x-cordon-rule'], 'cordon:fail-closed');
    assert.match(timedOut.body.toString(), /no decision within 1000 ms/);
    assert.equal(origin.seen.length, 1);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('policy failures fail closed in enforce mode and open (logged) in monitor mode; monitor never blocks a deny', async () => {
  let mode: 'throw' | 'malformed' | 'deny' = 'throw';
  const h = await startHarness({
    decide: () => {
      if (mode === 'throw') throw new Error('policy engine crashed');
      if (mode === 'malformed') return { action: 'maybe' } as never;
      return deny();
    },
  });
  const origin = await startHttpOrigin();
  try {
    assert.equal((await viaProxy(h.proxy, `${origin.url}/a`)).status, 403);
    mode = 'malformed';
    assert.equal((await viaProxy(h.proxy, `${origin.url}/b`)).status, 403);
    assert.equal(origin.seen.length, 0);
    h.proxy.setMode('monitor');
    mode = 'throw';
    assert.equal((await viaProxy(h.proxy, `${origin.url}/c`)).status, 200);
    mode = 'deny';
    assert.equal((await viaProxy(h.proxy, `${origin.url}/d`)).status, 200);
    const events = await h.waitForEvents(4);
    assert.equal(events[2]?.decision.rule, 'cordon:fail-open-monitor');
    assert.equal(events[2]?.decision.action, 'log');
    assert.equal(events[3]?.decision.action, 'deny');
    assert.equal(events[3]?.outcome, 'forwarded');
    assert.equal(events[3]?.mode, 'monitor');
  } finally {
    await h.close();
    await origin.close();
  }
});

test('keep-alive: client and origin connections are reused across requests', async () => {
  const h = await startHarness();
  const origin = await startHttpOrigin();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ports = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const reply = await viaProxy(h.proxy, `${origin.url}/echo?i=${i}`, { agent });
      assert.equal(reply.status, 200);
      ports.add(reply.remotePort);
    }
    assert.equal(ports.size, 1, 'one client connection to the proxy');
    assert.equal(origin.connections(), 1, 'one proxy connection to the origin');
    assert.equal(h.proxy.stats().connections, 1);
  } finally {
    agent.destroy();
    await h.close();
    await origin.close();
  }
});

test('10 MiB streams up and down through the proxy, byte for byte', async () => {
  const h = await startHarness();
  const origin = await startHttpOrigin();
  const size = 10 * 1024 * 1024;
  try {
    // Upload: a chunked body written in 64 KiB pieces with backpressure.
    const uploaded = await new Promise<number>((resolve, reject) => {
      const req = request({ host: h.proxy.host, port: h.proxy.port, method: 'POST', path: `${origin.url}/upload`, headers: { host: `127.0.0.1:${origin.port}` }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve((JSON.parse(text) as { bytes: number }).bytes));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(uploaded, size);
    // Download: count bytes without keeping them.
    const downloaded = await new Promise<number>((resolve, reject) => {
      const req = request({ host: h.proxy.host, port: h.proxy.port, path: `${origin.url}/download?bytes=${size}`, headers: { host: `127.0.0.1:${origin.port}` }, agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(downloaded, size);
    const events = await h.waitForEvents(2);
    assert.equal(events[0]?.bytesUp, size);
    assert.equal(events[1]?.bytesDown, size);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('no buffering: when the far side stops reading, the proxy stops too (backpressure both ways)', async () => {
  const h = await startHarness();
  const total = 64 * 1024 * 1024;
  let originFlushed = 0;
  // An origin that never reads uploads, and pushes downloads until the client stops reading.
  const server = createServer((req, res) => {
    if (req.url === '/upload') return void req.pause();
    res.writeHead(200, { 'Content-Length': String(total) });
    const chunk = Buffer.alloc(64 * 1024);
    const pump = async (): Promise<void> => {
      for (let sent = 0; sent < total; ) {
        while (sent < total && res.write(chunk)) sent += chunk.length;
        if (!(await drainedWithin(res, 300))) break;
        sent += chunk.length;
      }
      originFlushed = res.socket ? res.socket.bytesWritten - res.socket.writableLength : 0;
      res.destroy();
    };
    void pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const direct = await pushUntilStalled(port, `/upload`, port, total);
    const proxied = await pushUntilStalled(h.proxy.port, `http://127.0.0.1:${port}/upload`, port, total);
    // Only socket buffers fill up: a proxy that buffered would have taken all 64 MiB.
    assert.ok(proxied < direct * 4 + 4 * 1024 * 1024, `upload: proxy accepted ${proxied} bytes, direct ${direct}`);
    const stalled = connect(h.proxy.port, '127.0.0.1');
    stalled.pause();
    stalled.write(`GET http://127.0.0.1:${port}/download HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    const deadline = Date.now() + 10_000;
    while (originFlushed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stalled.destroy();
    assert.ok(originFlushed > 0 && originFlushed < 24 * 1024 * 1024, `download: origin flushed ${originFlushed} bytes into a client that reads nothing`);
  } finally {
    await h.close();
    server.closeAllConnections();
    server.close();
  }
});

/** Writes a Content-Length upload into port until no drain comes for 300 ms; returns the bytes the kernel took. */
async function pushUntilStalled(port: number, target: string, originPort: number, total: number): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\nContent-Length: ${total}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent < total; ) {
    while (sent < total && socket.write(chunk)) sent += chunk.length;
    if (!(await drainedWithin(socket, 300))) break;
    sent += chunk.length;
  }
  const accepted = socket.bytesWritten - socket.writableLength;
  socket.destroy();
  return accepted;
}

function drainedWithin(stream: Writable, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.removeListener('drain', onDrain);
      resolve(false);
    }, ms);
    const onDrain = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    stream.once('drain', onDrain);
  });
}

test('origin-form requests, requests to the proxy itself and unreachable origins get clear answers', async () => {
  const h = await startHarness();
  try {
    const health = await viaProxy(h.proxy, `${h.proxy.url}/.cordon/health`).catch(() => null);
    assert.equal(health?.status, 400, 'an absolute-form request to the proxy itself is a loop');
    const own = await new Promise<number>((resolve) => {
      request({ host: h.proxy.host, port: h.proxy.port, path: '/.cordon/health', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    assert.equal(own, 200);
    const originForm = await new Promise<{ status: number; body: string }>((resolve) => {
      request({ host: h.proxy.host, port: h.proxy.port, path: '/some/path', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).end();
    });
    assert.equal(originForm.status, 400);
    assert.match(originForm.body, /forward proxy/);
    // A port nothing listens on: 502 with a reason, and the event says it failed.
    const closed = await startHttpOrigin();
    const deadPort = closed.port;
    await closed.close();
    const dead = await viaProxy(h.proxy, `http://127.0.0.1:${deadPort}/x`);
    assert.equal(dead.status, 502);
    assert.match(dead.body.toString(), /refused/);
    const events = await h.waitForEvents(1);
    assert.equal(events.at(-1)?.outcome, 'failed');
  } finally {
    await h.close();
  }
});

test('the proxy refuses to bind anything but loopback', async () => {
  await assert.rejects(startHarness({ host: '0.0.0.0' as '127.0.0.1' }), { code: 'ERR_BAD_REQUEST' });
});

test('attribution runs once per client connection with its ports; a slow or failing attributor yields an unattributed principal for policy', async () => {
  const seenConns: ConnectionInfo[] = [];
  const principals: Principal[] = [];
  let behaviour: 'ok' | 'slow' | 'throw' = 'ok';
  const h = await startHarness({
    limits: { attributeTimeoutMs: 200 },
    attribute: async (conn) => {
      seenConns.push(conn);
      if (behaviour === 'throw') throw new Error('no /proc access');
      if (behaviour === 'slow') await new Promise((r) => setTimeout(r, 2000));
      return TEST_PRINCIPAL;
    },
    decide: (_req, principal) => {
      principals.push(principal);
      return ALLOW;
    },
  });
  const origin = await startHttpOrigin();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await viaProxy(h.proxy, `${origin.url}/1`, { agent });
    await viaProxy(h.proxy, `${origin.url}/2`, { agent });
    assert.equal(seenConns.length, 1, 'one attribution for two requests on one connection');
    assert.equal(seenConns[0]?.remotePort, a.remotePort, "the client's own port, for the socket lookup");
    assert.equal(seenConns[0]?.localPort, h.proxy.port);
    assert.equal(seenConns[0]?.remoteAddress, '127.0.0.1');
    assert.equal(principals[0]?.attributed, true);
    behaviour = 'slow';
    const t0 = Date.now();
    assert.equal((await viaProxy(h.proxy, `${origin.url}/3`)).status, 200);
    assert.ok(Date.now() - t0 < 1500);
    behaviour = 'throw';
    assert.equal((await viaProxy(h.proxy, `${origin.url}/4`)).status, 200);
    assert.deepEqual(principals.slice(2).map((p) => [p.attributed, p.chain.length, p.agent]), [
      [false, 0, null],
      [false, 0, null],
    ]);
    assert.match(principals[2]?.reason ?? '', /longer than 200 ms/);
  } finally {
    agent.destroy();
    await h.close();
    await origin.close();
  }
});

test('Expect: 100-continue is answered only after policy allowed the request; a denied client never sends its body', async () => {
  const h = await startHarness({ decide: (req) => (req.path === '/denied' ? deny() : ALLOW) });
  const origin = await startHttpOrigin();
  try {
    const head = (path: string): string => `POST http://127.0.0.1:${origin.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`;
    const denied = await rawExchange(h.proxy, head('/denied'), 2000);
    assert.match(denied, /^HTTP\/1\.1 403 /);
    assert.doesNotMatch(denied, /100 Continue/);
    const allowed = await new Promise<string>((resolve) => {
      const socket = connect(h.proxy.port, '127.0.0.1');
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.startsWith('HTTP/1.1 100') && !text.includes('hello')) socket.write('hello');
        if (text.includes('"body":"hello"')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('close', () => resolve(text));
      socket.write(head('/allowed'));
    });
    assert.match(allowed, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(origin.seen.length, 1);
  } finally {
    await h.close();
    await origin.close();
  }
});
