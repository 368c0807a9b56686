/**
 * Local origins for proxy tests: one handler served over HTTP and HTTPS on 127.0.0.1 (port 0),
 * with echo, streaming download, counting upload, slow and WebSocket-echo routes, and a log of
 * what reached it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TestCa } from './testCa.ts';

export type SeenRequest = Readonly<{ method: string; url: string; headers: IncomingMessage['headers']; remotePort: number }>;

export type TestOrigin = Readonly<{
  port: number;
  url: string;
  seen: SeenRequest[];
  /** Client sockets the origin accepted (to check keep-alive reuse). */
  connections(): number;
  close(): Promise<void>;
}>;

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A plain HTTP origin. */
export function startHttpOrigin(extra?: ExtraRoute): Promise<TestOrigin> {
  return serve(createServer(), 'http', extra);
}

/** An HTTPS origin with a leaf for 127.0.0.1 and localhost from the given CA. */
export function startHttpsOrigin(ca: TestCa, extra?: ExtraRoute): Promise<TestOrigin> {
  const { key, cert } = ca.leaf(['localhost', '127.0.0.1']);
  return serve(createHttpsServer({ key, cert }), 'https', extra);
}

async function serve(server: Server, scheme: 'http' | 'https', extra?: ExtraRoute): Promise<TestOrigin> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, remotePort: req.socket.remotePort ?? 0 });
    if (extra?.(req, res)) return;
    route(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, remotePort: 0 });
    webSocketEcho(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (url.pathname === '/download') {
    // Streams N bytes in 64 KiB chunks with backpressure.
    const total = Number(url.searchParams.get('bytes') ?? '0');
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  if (url.pathname === '/upload') {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => json(res, 200, { bytes }));
    return;
  }
  if (url.pathname === '/slow') {
    setTimeout(() => json(res, 200, { slow: true }), Number(url.searchParams.get('ms') ?? '200'));
    return;
  }
  // Default: echo what arrived.
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => json(res, 200, { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Completes the handshake and echoes each text frame back (unmasked, as a server sends). */
function webSocketEcho(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buffer = head;
  const onData = (chunk: Buffer): void => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const frame = decodeFrame(buffer);
      if (frame === null) return;
      buffer = buffer.subarray(frame.length);
      if (frame.opcode === 8) {
        socket.end(encodeFrame('', false, 8));
        return;
      }
      socket.write(encodeFrame(`echo:${frame.payload.toString('utf8')}`, false));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  if (head.length > 0) onData(Buffer.alloc(0));
}

/** One WebSocket frame (payload < 64 KiB); clients must mask. */
export function encodeFrame(text: string, masked: boolean, opcode = 1): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header: number[] = [0x80 | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (payload.length < 126) header.push(maskBit | payload.length);
  else header.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  if (!masked) return Buffer.concat([Buffer.from(header), payload]);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from(header), mask, body]);
}

/** Decodes one frame from the front of buf, or null when it is incomplete. */
export function decodeFrame(buf: Buffer): { opcode: number; payload: Buffer; length: number } | null {
  if (buf.length < 2) return null;
  const opcode = (buf[0] as number) & 0x0f;
  const masked = ((buf[1] as number) & 0x80) !== 0;
  let len = (buf[1] as number) & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    offset = 4;
  }
  const maskLen = masked ? 4 : 0;
  if (buf.length < offset + maskLen + len) return null;
  const mask = masked ? buf.subarray(offset, offset + 4) : null;
  const data = Buffer.from(buf.subarray(offset + maskLen, offset + maskLen + len));
  if (mask) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ (mask[i % 4] as number);
  return { opcode, payload: data, length: offset + maskLen + len };
}
