import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Decision, EgressRequest } from '../../app/api/enforcement.ts';
import { ALLOW, deny, openTunnel, startHarness, type Harness } from './helpers/proxyHarness.ts';
import { decodeFrame, encodeFrame, startHttpsOrigin, type TestOrigin } from './helpers/origins.ts';
import { createTestCa } from './helpers/testCa.ts';

const cordonCa = createTestCa('Cordon Test Root');
const originCa = createTestCa('Origin Test CA');

const INSPECT: Decision = { ...ALLOW, inspect: true };

function inspectingPolicy(req: EgressRequest): Decision {
  if (req.kind === 'connect') return INSPECT;
  return req.path?.startsWith('/admin') ? deny('managed:no-admin', 'admin paths are off limits') : ALLOW;
}

async function inspectedTls(h: Harness, origin: TestOrigin, trust: string): Promise<TLSSocket> {
  const tunnel = await openTunnel(h.proxy, `localhost:${origin.port}`);
  assert.equal(tunnel.status, 200);
  return tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: trust });
}

/** An https.Agent that reuses one already-open TLS socket (keep-alive inside one tunnel). */
function oneSocketAgent(socket: TLSSocket): HttpsAgent {
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection(): Duplex }).createConnection = () => socket;
  return agent;
}

function get(agent: HttpsAgent, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: 'localhost', port, path, agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('TLS inspection: the client trusts the Cordon CA, policy decides each request by method and path, the origin is verified', async () => {
  const h = await startHarness({ tls: cordonCa, originCa: [originCa.caPem], decide: inspectingPolicy });
  const origin = await startHttpsOrigin(originCa);
  try {
    const tls = await inspectedTls(h, origin, cordonCa.caPem);
    const agent = oneSocketAgent(tls);
    const first = await get(agent, origin.port, '/echo?q=1', { 'X-Test': 'yes' });
    assert.equal(first.status, 200);
    assert.equal((JSON.parse(first.body) as { url: string }).url, '/echo?q=1');
    const blocked = await get(agent, origin.port, '/admin/users');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.headers['x-cordon-rule'], 'managed:no-admin');
    assert.match(blocked.body, /admin paths are off limits/);
    const second = await get(agent, origin.port, '/echo?q=2');
    assert.equal(second.status, 200);
    // The certificate the client saw was Cordon's, not the origin's.
    assert.match(String(tls.getPeerCertificate().issuer.CN), /Cordon Test Root/);
    agent.destroy();
    tls.destroy();
    assert.deepEqual(origin.seen.map((r) => r.url), ['/echo?q=1', '/echo?q=2']);
    const https = h.decided.filter((d) => d.kind === 'https');
    assert.deepEqual(https.map((d) => [d.method, d.path, d.host, d.port]), [
      ['GET', '/echo?q=1', 'localhost', origin.port],
      ['GET', '/admin/users', 'localhost', origin.port],
      ['GET', '/echo?q=2', 'localhost', origin.port],
    ]);
    assert.equal((https[0]?.headers as Record<string, string>)['x-test'], 'yes');
    assert.equal(https[0]?.sni, 'localhost');
    const events = await h.waitForEvents(4);
    assert.ok(events.some((e) => e.request.kind === 'connect' && e.inspected === true && e.outcome === 'forwarded'));
    assert.equal(events.filter((e) => e.request.kind === 'https' && e.outcome === 'blocked').length, 1);
  } finally {
    await h.close();
    await origin.close();
  }
});

test('inspection failures are clear: untrusted origin certificate, Host not matching the tunnel, client refusing the Cordon CA, no TLS provider', async () => {
  const h = await startHarness({ tls: cordonCa, decide: inspectingPolicy });
  const origin = await startHttpsOrigin(originCa);
  try {
    // The proxy was not told to trust the origin's CA: 502, and the client learns why.
    const tls = await inspectedTls(h, origin, cordonCa.caPem);
    const agent = oneSocketAgent(tls);
    const untrusted = await get(agent, origin.port, '/echo');
    assert.equal(untrusted.status, 502);
    assert.match(untrusted.body, /certificate/);
    agent.destroy();

    // Domain fronting inside an inspected tunnel is refused.
    const tls2 = await inspectedTls(h, origin, cordonCa.caPem);
    const agent2 = oneSocketAgent(tls2);
    const fronted = await get(agent2, origin.port, '/echo', { Host: 'elsewhere.example' });
    assert.equal(fronted.status, 400);
    assert.match(fronted.body, /Host header does not match/);
    agent2.destroy();

    // A ClientHello naming another host than CONNECT did gets no certificate at all.
    const fronting = await openTunnel(h.proxy, `localhost:${origin.port}`);
    const mismatch = await new Promise<string>((resolve) => {
      const t = tlsConnect({ socket: fronting.socket, servername: 'other.example', ca: cordonCa.caPem });
      t.on('secureConnect', () => resolve('connected'));
      t.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.notEqual(mismatch, 'connected');
    fronting.socket.destroy();

    // A client that does not trust the Cordon CA: the handshake fails and the tunnel event says so.
    const tls3 = await inspectedTls(h, origin, originCa.caPem);
    const failure = await new Promise<string>((resolve) => {
      tls3.on('secureConnect', () => resolve('connected'));
      tls3.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.notEqual(failure, 'connected');
    tls3.destroy();
    const failed = await h.waitForEvent((e) => e.request.kind === 'connect' && e.outcome === 'failed');
    assert.match(failed.error ?? '', /TLS with the client failed/);
  } finally {
    await h.close();
    await origin.close();
  }
  const noTls = await startHarness({ decide: () => INSPECT });
  try {
    const refused = await openTunnel(noTls.proxy, 'localhost:443');
    assert.equal(refused.status, 403);
    assert.match(refused.head, /cordon:inspection-unavailable/);
  } finally {
    await noTls.close();
  }
});

test('WebSocket inside an inspected tunnel is decided as an https request and relayed', async () => {
  const h = await startHarness({ tls: cordonCa, originCa: [originCa.caPem], decide: inspectingPolicy });
  const origin = await startHttpsOrigin(originCa);
  try {
    const tls = await inspectedTls(h, origin, cordonCa.caPem);
    const echoes = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo')), 5000);
      let buf = Buffer.alloc(0);
      let upgraded = false;
      const got: string[] = [];
      tls.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (!upgraded) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          if (!buf.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return reject(new Error(buf.toString()));
          upgraded = true;
          buf = buf.subarray(end + 4);
          tls.write(encodeFrame('inside', true));
        }
        const frame = decodeFrame(buf);
        if (frame) {
          got.push(frame.payload.toString());
          clearTimeout(timer);
          resolve(got);
        }
      });
      tls.write(`GET /socket HTTP/1.1\r\nHost: localhost:${origin.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    tls.destroy();
    assert.deepEqual(echoes, ['echo:inside']);
    assert.ok(h.decided.some((d) => d.kind === 'https' && d.path === '/socket'));
  } finally {
    await h.close();
    await origin.close();
  }
});
