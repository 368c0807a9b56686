/**
 * The sync client's HTTP: a fetch-like function over node:http/https that goes through the
 * corporate proxy from the environment (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl reads them):
 * https targets through an HTTP CONNECT tunnel, http targets in absolute form. Bounded time and
 * response size; proxy credentials never appear in errors.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FetchLike } from '../identity/dpop/nonceRetry.ts';

export type HttpFetchOptions = Readonly<{
  /** Where proxy settings are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CA certificates (PEM), on top of Node's (NODE_EXTRA_CA_CERTS also works). */
  ca?: string;
  /** Whole-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 16 MiB). */
  maxResponseBytes?: number;
}>;

export type HttpFetch = FetchLike & Readonly<{ proxyFor(url: string): string | null; close(): void }>;

const NULL_BODY = new Set([101, 204, 205, 304]);

export function createHttpFetch(options: HttpFetchOptions = {}): HttpFetch {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) });

  const fetchFn = async (url: string, init: RequestInit): Promise<Response> => {
    const target = new URL(url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new TypeError('only http and https URLs are supported');
    const proxy = proxyUrl(target, env);
    const method = init.method ?? 'GET';
    const headers = headerRecord(init.headers);
    const body = typeof init.body === 'string' ? init.body : init.body == null ? undefined : null;
    if (body === null) throw new TypeError('the sync client sends string bodies only');
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const signal = AbortSignal.timeout(timeoutMs);
    const path = `${target.pathname}${target.search}`;

    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      let req;
      if (target.protocol === 'https:') {
        const base = { host: target.hostname, port, path, method, headers, signal, ...(options.ca ? { ca: options.ca } : {}) };
        if (proxy) {
          req = httpsRequest({
            ...base,
            createConnection: ((_opts: unknown, callback: (error: Error | null, socket?: Socket) => void) => {
              connectTunnel(proxy, target.hostname, port, timeoutMs)
                .then((raw) => {
                  const tls = tlsConnect({ socket: raw, host: target.hostname, ...(isIP(target.hostname) ? {} : { servername: target.hostname }), ...(options.ca ? { ca: options.ca } : {}), ALPNProtocols: ['http/1.1'] });
                  callback(null, tls);
                })
                .catch((error: Error) => callback(error));
              return undefined;
            }) as never,
          });
        } else req = httpsRequest({ ...base, agent: httpsAgent });
      } else if (proxy) {
        req = httpRequest({
          host: proxy.hostname, port: Number(proxy.port || 80), path: target.href, method, signal,
          headers: { ...headers, host: target.host, ...proxyAuthorization(proxy) },
        });
      } else req = httpRequest({ host: target.hostname, port, path, method, headers, signal, agent: httpAgent });
      req.on('response', resolve);
      req.on('error', (error) => reject(cleanError(error, proxy)));
      if (body !== undefined) req.write(body);
      req.end();
    });

    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          response.destroy();
          throw new Error(`the response is larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      throw cleanError(error as Error, proxy);
    }
    const status = response.statusCode ?? 500;
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
    }
    return new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks, size), { status, headers: responseHeaders });
  };

  return Object.assign(fetchFn, {
    proxyFor(url: string): string | null {
      const proxy = proxyUrl(new URL(url), env);
      return proxy ? `${proxy.protocol}//${proxy.host}` : null;
    },
    close(): void {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}

/** The proxy for a target URL per the curl conventions, or null for a direct connection. */
export function proxyUrl(target: URL, env: NodeJS.ProcessEnv): URL | null {
  const raw = target.protocol === 'https:' ? (env.https_proxy || env.HTTPS_PROXY) : (env.http_proxy || env.HTTP_PROXY);
  const chosen = raw || env.all_proxy || env.ALL_PROXY;
  if (!chosen) return null;
  if (bypassed(target, env.no_proxy || env.NO_PROXY || '')) return null;
  let proxy: URL;
  try {
    proxy = new URL(chosen.includes('://') ? chosen : `http://${chosen}`);
  } catch {
    throw new Error('the proxy setting (HTTPS_PROXY/HTTP_PROXY) is not a valid URL');
  }
  if (proxy.protocol !== 'http:') throw new Error(`proxy scheme ${proxy.protocol} is not supported (use an http:// proxy URL)`);
  return proxy;
}

/** NO_PROXY: `*`, host names (also matching subdomains, with or without a leading dot), optional :port. */
function bypassed(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase());
    const name = (m?.[1] ?? '').replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m?.[2] && m[2] !== port) continue;
    if (name && (host === name || host.endsWith(`.${name}`))) return true;
  }
  return false;
}

/** Opens a CONNECT tunnel through the proxy to host:port. */
function connectTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const req = httpRequest({
      host: proxy.hostname, port: Number(proxy.port || 80), method: 'CONNECT', path: authority, agent: false,
      headers: { host: authority, ...proxyAuthorization(proxy) }, signal: AbortSignal.timeout(timeoutMs),
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy ${proxy.host} refused the tunnel to ${authority} (HTTP ${res.statusCode})`));
        return;
      }
      resolve(socket);
    });
    req.on('error', (error) => reject(cleanError(error, proxy)));
    req.end();
  });
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function headerRecord(headers: RequestInit['headers']): OutgoingHttpHeaders & Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers ?? {}).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** Errors name the proxy by host only (its URL may hold credentials). */
function cleanError(error: Error, proxy: URL | null): Error {
  const message = proxy ? error.message.replaceAll(proxy.href, `${proxy.protocol}//${proxy.host}`) : error.message;
  const clean = new Error(proxy ? `${message} (via proxy ${proxy.host})` : message);
  (clean as Error & { code?: unknown }).code = (error as Error & { code?: unknown }).code;
  return clean;
}
