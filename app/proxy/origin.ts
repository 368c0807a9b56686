/**
 * The origin side of a visible exchange: where it goes (plain or TLS, direct or through the
 * upstream proxy), the headers it gets, and relaying its response back. Shared by plain HTTP,
 * inspected HTTPS, DPoP injection and WebSocket upgrades.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { ProxyContext } from './context.ts';
import { endToEndHeaders } from './headers.ts';
import { hostHeaderOf } from './target.ts';

/** Where a visible request goes. */
export type Origin = Readonly<{
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** TLS server name for https origins (the SNI the client used, else the host when it is a name). */
  servername?: string;
}>;

export type Exchange = Readonly<{
  kind: 'http' | 'https';
  origin: Origin;
  /** path + query as sent to the origin. */
  path: string;
  /** The client connection whose principal applies. */
  socket: Socket;
  sni?: string;
}>;

const DROP_ON_FORWARD: ReadonlySet<string> = new Set(['host']);

/** The request headers for the origin: end-to-end ones, Host for the target, and Via (RFC 9110 §7.6.3). */
export function originHeaders(req: IncomingMessage, origin: Origin, drop: ReadonlySet<string> = DROP_ON_FORWARD): string[] {
  const headers = endToEndHeaders(req.rawHeaders, drop);
  headers.push('Host', hostHeaderOf(origin.host, origin.port, origin.scheme === 'https' ? 443 : 80), 'Via', `${req.httpVersion} cordon`);
  return headers;
}

/** Opens a request to the origin (directly, through the upstream proxy, or over TLS). */
export function originRequest(ctx: ProxyContext, origin: Origin, method: string, path: string, headers: string[]): ClientRequest {
  let out: ClientRequest;
  if (origin.scheme === 'https') {
    const servername = origin.servername ?? (isIP(origin.host) === 0 ? origin.host : undefined);
    out = httpsRequest({ host: origin.host, port: origin.port, method, path, headers, agent: ctx.httpsAgent, setHost: false, ...(servername ? { servername } : {}) });
  } else {
    const upstream = ctx.upstream.forHttp(origin.host, origin.port);
    if (upstream === null) {
      out = httpRequest({ host: origin.host, port: origin.port, method, path, headers, agent: ctx.httpAgent, setHost: false });
    } else {
      const absolute = `http://${hostHeaderOf(origin.host, origin.port, 80)}${path}`;
      const viaUpstream = upstream.authorization ? [...headers, 'Proxy-Authorization', upstream.authorization] : headers;
      out = httpRequest({ host: upstream.host, port: upstream.port, method, path: absolute, headers: viaUpstream, agent: ctx.httpAgent, setHost: false });
    }
  }
  limitConnect(out, ctx.limits.connectTimeoutMs);
  return out;
}

/** Sends the origin's response to the client (hop-by-hop fields removed) and counts the body bytes. */
export function relayResponse(res: ServerResponse, upstream: IncomingMessage, onBytes: (n: number) => void): void {
  res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, endToEndHeaders(upstream.rawHeaders));
  upstream.on('data', (chunk: Buffer) => onBytes(chunk.length));
  upstream.pipe(res);
}

/** Fails a request whose TCP connection does not come up in time (a slow response is fine). */
function limitConnect(out: ClientRequest, timeoutMs: number): void {
  out.once('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => out.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    timer.unref();
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}
