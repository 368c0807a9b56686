import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect as http2Connect, createSecureServer } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { deny, openTunnel, startHarness, ALLOW } from './helpers/proxyHarness.ts';
import { decodeFrame, encodeFrame, startHttpOrigin, startHttpsOrigin } from './helpers/origins.ts';
import { createTestCa } from './helpers/testCa.ts';

const originCa = createTestCa('Origin Test CA');

test('CONNECT to an HTTPS origin stays opaque: the client verifies the origin itself; policy sees host, port and SNI', async () => {
  const h = await startHarness();
  const origin = await startHttpsOrigin(originCa);
  try {
    const tunnel = await openTunnel(h.proxy, `localhost:${origin.port}`);
    assert.equal(tunnel.status, 200);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: 'localhost', port: origin.port, path: '/opaque?q=1', ca: originCa.caPem, createConnection: () => tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: originCa.caPem }) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal((JSON.parse(body) as { url: string }).url, '/opaque?q=1');
    tunnel.socket.destroy();
    const [event] = await h.waitForEvents(1);
    assert.equal(event?.request.kind, 'connect');
    assert.equal(event?.request.host, 'localhost');
    assert.equal(event?.request.port, origin.port);
    assert.equal(event?.request.sni, 'localhost');
    assert.equal(event?.request.path, undefined);
    assert.equal(event?.outcome, 'forwarded');
    assert.ok((event?.bytesUp ?? 0) > 100 && (event?.bytesDown ?? 0) > 100);
    assert.deepEqual(h.decided.map((d) => d.kind), ['connect'], 'one decision per tunnel, none per byte');
  } finally {
    await h.close();
    await origin.close();
  }
});

test('a denied CONNECT gets a 403 naming the rule and audit id; an SNI that names a denied host closes the tunnel', async () => {
  const h = await startHarness({ decide: (req) => (req.host === 'blocked.example' || req.sni === 'blocked.example' ? deny('user:blocked') : ALLOW) });
  const origin = await startHttpsOrigin(originCa);
  try {
    const refused = await openTunnel(h.proxy, 'blocked.example:443');
    assert.equal(refused.status, 403);
    assert.match(refused.head, /X-Cordon-Decision: deny/);
    assert.match(refused.head, /X-Cordon-Rule: user:blocked/);
    assert.match(refused.head, /X-Cordon-Audit-Id: audit-1/);
    assert.match(refused.head, /Blocked by Cordon/);

    // CONNECT names an allowed IP, the ClientHello names the blocked host: policy is asked again.
    const tunnel = await openTunnel(h.proxy, `127.0.0.1:${origin.port}`);
    assert.equal(tunnel.status, 200);
    const outcome = await new Promise<string>((resolve) => {
      const tls = tlsConnect({ socket: tunnel.socket, servername: 'blocked.example', ca: originCa.caPem });
      tls.on('secureConnect', () => resolve('connected'));
      tls.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      tls.on('close', () => resolve('closed'));
    });
    assert.notEqual(outcome, 'connected');
    const events = await h.waitForEvents(2);
    assert.equal(events[1]?.outcome, 'blocked');
    assert.equal(events[1]?.request.sni, 'blocked.example');
    assert.equal(origin.connections(), 0, 'no TLS session with the origin completed');
  } finally {
    await h.close();
    await origin.close();
  }
});

test('WebSocket echo through the proxy: absolute-form upgrade and inside a CONNECT tunnel', async () => {
  const h = await startHarness();
  const origin = await startHttpOrigin();
  try {
    const direct = await webSocketRoundTrip((s) => s.write(handshake(`http://127.0.0.1:${origin.port}/ws`, origin.port)), h.proxy.port);
    assert.deepEqual(direct, ['echo:hello 1', 'echo:hello 2']);
    const tunnel = await openTunnel(h.proxy, `127.0.0.1:${origin.port}`);
    const tunnelled = await webSocketRoundTrip((s) => s.write(handshake('/ws', origin.port)), 0, tunnel.socket);
    assert.deepEqual(tunnelled, ['echo:hello 1', 'echo:hello 2']);
    const events = await h.waitForEvents(2);
    const ws = events.find((e) => e.upgrade === 'websocket');
    assert.equal(ws?.status, 101);
    assert.equal(ws?.request.path, '/ws');
    assert.ok((ws?.bytesUp ?? 0) > 0);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('HTTP/2 inside a CONNECT tunnel passes untouched', async () => {
  const h = await startHarness();
  const { key, cert } = originCa.leaf(['localhost']);
  const server = createSecureServer({ key, cert, allowHTTP1: false }, (req, res) => res.end(`h2 ${req.httpVersion} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const tunnel = await openTunnel(h.proxy, `localhost:${port}`);
    const session = http2Connect(`https://localhost:${port}`, {
      createConnection: () => tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: originCa.caPem, ALPNProtocols: ['h2'] }),
    });
    const texts: string[] = [];
    for (const path of ['/one', '/two']) {
      texts.push(
        await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': path });
          let text = '';
          stream.on('data', (c: Buffer) => (text += c));
          stream.on('end', () => resolve(text));
          stream.on('error', reject);
          stream.end();
        }),
      );
    }
    session.close();
    assert.deepEqual(texts, ['h2 2.0 /one', 'h2 2.0 /two']);
  } finally {
    await h.close();
    server.close();
  }
});

test('tunnels set TCP_NODELAY: small request/response exchanges do not stall on Nagle', async () => {
  const h = await startHarness();
  // A line-echo origin: answers only once a whole line arrived (so it sends no early ACK-carrying data).
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    let buf = '';
    socket.on('data', (c: Buffer) => {
      buf += c.toString();
      while (buf.includes('\n')) {
        const line = buf.slice(0, buf.indexOf('\n'));
        buf = buf.slice(buf.indexOf('\n') + 1);
        socket.write(`${line}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const tunnel = await openTunnel(h.proxy, `127.0.0.1:${port}`);
    const socket = tunnel.socket;
    socket.setNoDelay(true);
    const rounds = 30;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.write(`ping-${i}`);
      await new Promise((r) => setTimeout(r, 3));
      socket.write('\n');
      await answered;
    }
    const perRound = (performance.now() - started) / rounds;
    socket.destroy();
    assert.ok(perRound < 20, `${perRound.toFixed(1)} ms per round trip (a Nagle stall is ~40 ms)`);
  } finally {
    await h.close();
    server.close();
  }
});

function handshake(target: string, port: number): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** Sends the handshake, checks the accept key, sends two masked frames and collects the echoes. */
async function webSocketRoundTrip(sendHandshake: (s: Socket) => void, proxyPort: number, existing?: Socket): Promise<string[]> {
  const { connect } = await import('node:net');
  const socket = existing ?? connect(proxyPort, '127.0.0.1');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('websocket round trip timed out')), 5000);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const echoes: string[] = [];
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const accept = createHash('sha1').update('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) return reject(new Error(`bad handshake: ${head}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        socket.write(encodeFrame('hello 1', true));
        socket.write(encodeFrame('hello 2', true));
      }
      for (let frame = decodeFrame(buf); frame !== null; frame = decodeFrame(buf)) {
        buf = buf.subarray(frame.length);
        echoes.push(frame.payload.toString('utf8'));
        if (echoes.length === 2) {
          clearTimeout(timer);
          socket.end(encodeFrame('', true, 8));
          resolve(echoes);
        }
      }
    });
    socket.on('error', reject);
    sendHandshake(socket);
  });
}
