/**
 * Test harness for the proxy: hooks with a fixed principal, a decide function per test, an event
 * log; a started proxy; and clients that speak to it over real sockets (absolute-form requests,
 * CONNECT tunnels, raw bytes).
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Decision, EgressRequest, Principal } from '../../../app/api/enforcement.ts';
import { createProxyServer } from '../../../app/proxy/server.ts';
import type { ConnectionInfo, DpopAuthorizer, ProxyEvent, ProxyOptions, RunningProxy, TlsProvider } from '../../../app/proxy/types.ts';
import { silentLogger } from '../../../app/util/log.ts';

export const ALLOW: Decision = { action: 'allow', rule: 'test:allow', layer: 'user', reasons: [{ code: 'rule', message: 'allowed by the test' }] };

export function deny(rule = 'user:block-test', message = 'destination blocked by the test'): Decision {
  return { action: 'deny', rule, layer: 'user', reasons: [{ code: 'rule', message }] };
}

export const TEST_PRINCIPAL: Principal = {
  attributed: true,
  chain: [{ pid: process.pid, ppid: process.ppid, exe: process.execPath, argv: ['node'], uid: null, user: null, cwd: null, startTimeMs: null }],
  agent: { id: 'agent:test', kind: 'test-agent', name: 'Test Agent', pid: process.pid, exe: process.execPath },
};

export type Harness = {
  proxy: RunningProxy;
  events: ProxyEvent[];
  decided: EgressRequest[];
  /** Resolves when `count` events were recorded (bounded wait). */
  waitForEvents(count: number, timeoutMs?: number): Promise<ProxyEvent[]>;
  /** Resolves with the first recorded event that matches (bounded wait). */
  waitForEvent(match: (event: ProxyEvent) => boolean, timeoutMs?: number): Promise<ProxyEvent>;
  close(): Promise<void>;
};

export type HarnessOptions = Partial<Omit<ProxyOptions, 'hooks' | 'log' | 'port'>> & {
  decide?: (request: EgressRequest, principal: Principal) => Decision | Promise<Decision>;
  tls?: TlsProvider;
  dpop?: DpopAuthorizer;
  attribute?: (conn: ConnectionInfo) => Promise<Principal>;
};

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const events: ProxyEvent[] = [];
  const decided: EgressRequest[] = [];
  const waiters: (() => void)[] = [];
  const { decide, tls, dpop, attribute, ...rest } = options;
  const proxy = await createProxyServer({
    ...rest,
    port: 0,
    log: silentLogger,
    hooks: {
      attribute: attribute ?? (async () => TEST_PRINCIPAL),
      decide: (req, principal) => {
        decided.push(req);
        return decide ? decide(req, principal) : ALLOW;
      },
      record: (event) => {
        events.push(event);
        for (const w of waiters.splice(0)) w();
        return `audit-${events.length}`;
      },
      ...(tls ? { tls } : {}),
      ...(dpop ? { dpop } : {}),
    },
  });
  return {
    proxy,
    events,
    decided,
    async waitForEvents(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} events, got ${events.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events;
    },
    async waitForEvent(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching event among ${events.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => proxy.close(),
  };
}

/** remotePort: the client's own (local) port of the connection to the proxy. */
export type Reply = { status: number; headers: IncomingHttpHeaders; body: Buffer; remotePort: number };

/** An absolute-form request through the proxy with Node's http client. */
export function viaProxy(proxy: RunningProxy, url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.host, port: proxy.port, method: init.method ?? 'GET', path: url, headers: { host: new URL(url).host, ...init.headers }, agent: init.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      const localPort = res.socket?.localPort ?? 0;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), remotePort: localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.end(init.body);
  });
}

/** Opens a CONNECT tunnel; resolves with the socket after a 2xx, or the refusal text. */
export function openTunnel(proxy: RunningProxy, authority: string): Promise<{ socket: Socket; status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, proxy.host);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('CONNECT got no answer'));
    }, 10_000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', function onData(chunk: Buffer) {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (status >= 200 && status < 300) {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        if (buf.length > end + 4) socket.unshift(buf.subarray(end + 4));
        resolve({ socket, status, head });
      } else {
        // Collect the whole refusal (the proxy closes after it).
        socket.once('close', () => {
          clearTimeout(timer);
          resolve({ socket, status, head: buf.toString('utf8') });
        });
      }
    });
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** Writes raw bytes to the proxy and returns everything it answers until it closes (or timeoutMs). */
export function rawExchange(proxy: RunningProxy, bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(proxy.port, proxy.host);
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes);
  });
}
