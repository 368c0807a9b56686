/**
 * Reaching origins: directly, or through the corporate upstream proxy the daemon itself must use
 * (CONNECT for tunnels, absolute-form for plain HTTP), honouring NO_PROXY. Also maps socket
 * errors to the 502/504 answer the client gets. Not the policy: that was decided before.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { CoreError } from '../api/errors.ts';
import { compileNoProxy, type NoProxyMatcher } from './noProxy.ts';
import { authorityOf, isProxyLoop } from './target.ts';
import type { UpstreamConfig } from './types.ts';

/** One upstream proxy (http:// only), with its Proxy-Authorization when the URL had userinfo. */
export type UpstreamProxy = Readonly<{
  host: string;
  port: number;
  /** `Basic ...` from the URL's userinfo; never logged. */
  authorization: string | null;
  /** host:port for logs (no credentials). */
  label: string;
}>;

export type UpstreamRoutes = Readonly<{
  /** The upstream for a plain-HTTP request to host:port, or null to go direct. */
  forHttp(host: string, port: number): UpstreamProxy | null;
  /** The upstream for a tunnel (CONNECT, inspected HTTPS) to host:port, or null to go direct. */
  forTunnel(host: string, port: number): UpstreamProxy | null;
}>;

/** Why an origin could not be reached, as the client will be told. */
export type ReachFailure = Readonly<{ status: 502 | 504; message: string }>;

const MAX_RESPONSE_HEAD = 16 * 1024;

/** The daemon's own proxy environment (lower-case names first, as curl does). */
export function upstreamFromEnv(env: NodeJS.ProcessEnv): UpstreamConfig {
  const pick = (...names: string[]): string | undefined => names.map((n) => env[n]).find((v) => v !== undefined && v.trim() !== '');
  const httpProxy = pick('http_proxy', 'HTTP_PROXY');
  const httpsProxy = pick('https_proxy', 'HTTPS_PROXY');
  const noProxy = pick('no_proxy', 'NO_PROXY');
  return { ...(httpProxy ? { httpProxy } : {}), ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) };
}

/**
 * Compiles the upstream configuration. An upstream that points back at this proxy is dropped
 * (a daemon started under `cordon run` would otherwise loop). Throws ERR_BAD_REQUEST for a URL
 * that is not an http:// proxy.
 */
export function compileUpstream(config: UpstreamConfig | undefined, ownPort: number): UpstreamRoutes & Readonly<{ dropped: string[] }> {
  const dropped: string[] = [];
  const load = (url: string | undefined): UpstreamProxy | null => {
    if (url === undefined) return null;
    const proxy = parseProxyUrl(url);
    if (isProxyLoop(proxy.host, proxy.port, ownPort)) {
      dropped.push(proxy.label);
      return null;
    }
    return proxy;
  };
  const http = load(config?.httpProxy);
  const https = load(config?.httpsProxy);
  const noProxy: NoProxyMatcher = compileNoProxy(config?.noProxy);
  return {
    dropped,
    forHttp: (host, port) => (http && !noProxy.bypass(host, port) ? http : null),
    forTunnel: (host, port) => (https && !noProxy.bypass(host, port) ? https : null),
  };
}

/** Parses `http://[user:pass@]host[:port]` (scheme optional). */
export function parseProxyUrl(text: string): UpstreamProxy {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', 'the upstream proxy setting is not a valid URL');
  }
  if (url.protocol !== 'http:') throw new CoreError('ERR_BAD_REQUEST', `upstream proxy scheme ${url.protocol} is not supported (only http://)`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw new CoreError('ERR_BAD_REQUEST', 'the upstream proxy URL has no host');
  const port = url.port === '' ? 80 : Number(url.port);
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : null;
  return { host, port, authorization, label: authorityOf(host, port) };
}

/** A TCP connection to host:port, failing after timeoutMs. */
export function connectDirect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return whenConnected(netConnect({ host, port }), host, port, timeoutMs);
}

/** Resolves with `socket` (no delay set) once it has connected to host:port; destroys it after timeoutMs. */
export function whenConnected(socket: Socket, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connection to ${authorityOf(host, port)} timed out`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}

/** A tunnel to host:port through an upstream proxy (CONNECT), or a direct connection when upstream is null. */
export async function openTunnel(upstream: UpstreamProxy | null, host: string, port: number, timeoutMs: number): Promise<Socket> {
  if (upstream === null) return connectDirect(host, port, timeoutMs);
  const started = Date.now();
  const socket = await connectDirect(upstream.host, upstream.port, timeoutMs);
  const authority = authorityOf(host, port);
  const auth = upstream.authorization ? `Proxy-Authorization: ${upstream.authorization}\r\n` : '';
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => finish(Object.assign(new Error(`upstream proxy ${upstream.label} did not answer CONNECT`), { code: 'ETIMEDOUT' })), Math.max(1, timeoutMs - (Date.now() - started)));
    const finish = (error: Error | null, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
        return;
      }
      // Paused first: unshifted into a flowing socket with no listener, the origin's first bytes
      // would be emitted to nobody before the caller attaches its relay.
      if (rest && rest.length > 0) {
        socket.pause();
        socket.unshift(rest);
      }
      resolve(socket);
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) finish(upstreamError(upstream, 'sent an oversized CONNECT response'));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, Math.min(end, 64)).toString('latin1'))?.[1];
      if (status === undefined) finish(upstreamError(upstream, 'sent a malformed CONNECT response'));
      else if (!status.startsWith('2')) finish(upstreamError(upstream, `refused the tunnel (${status})`));
      else finish(null, head.subarray(end + 4));
    };
    const onError = (error: Error): void => finish(error);
    const onClose = (): void => finish(upstreamError(upstream, 'closed the connection during CONNECT'));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/** The answer for a failed origin or upstream connection (no internal detail beyond the cause). */
export function reachFailure(error: unknown, target: string): ReachFailure {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ETIMEDOUT':
      return { status: 504, message: `Cordon could not connect to ${target} in time` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { status: 502, message: `Cordon could not resolve ${target}` };
    case 'ECONNREFUSED':
      return { status: 502, message: `${target} refused the connection` };
    case 'ERR_UPSTREAM_PROXY':
      return { status: 502, message: (error as Error).message };
    default:
      if (typeof code === 'string' && /CERT|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED|ALTNAME|HOSTNAME/.test(code)) {
        return { status: 502, message: `the certificate of ${target} is not trusted (${code})` };
      }
      if (typeof code === 'string' && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) {
        return { status: 502, message: `TLS with ${target} failed (${code})` };
      }
      return { status: 502, message: `Cordon could not reach ${target}${typeof code === 'string' ? ` (${code})` : ''}` };
  }
}

function upstreamError(upstream: UpstreamProxy, what: string): Error {
  return Object.assign(new Error(`the upstream proxy ${upstream.label} ${what}`), { code: 'ERR_UPSTREAM_PROXY' });
}
