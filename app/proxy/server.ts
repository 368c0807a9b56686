/**
 * The loopback forward proxy every governed agent call passes through: HTTP/1.1 absolute-form
 * requests, CONNECT tunnels and WebSocket upgrades, decided once each by the daemon's hooks.
 * Entry point: createProxyServer. Never an open proxy: loopback bind, loopback clients only.
 */
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CoreError } from '../api/errors.ts';
import { sendError, writeError } from './blockResponse.ts';
import { handleConnect } from './connectTunnel.ts';
import { createContext, startAttribution, track, type ProxyContext } from './context.ts';
import { isWebSocketUpgrade } from './headers.ts';
import { handleExchange } from './httpForward.ts';
import { createInspector } from './inspect.ts';
import type { Exchange } from './origin.ts';
import { authorityOf, HEALTH_PATH, isLoopbackAddress, isProxyLoop, parseAbsoluteTarget } from './target.ts';
import type { ProxyOptions, RunningProxy } from './types.ts';
import { compileUpstream } from './upstream.ts';
import { handleWebSocket } from './websocket.ts';

/** How long closing waits for tunnels' audit records (the kernel relay answers within a loop turn or two). */
const RECORD_WAIT_MS = 2000;

/**
 * Starts the proxy on loopback. Throws ERR_BAD_REQUEST for a non-loopback host, a bad port or a
 * bad upstream proxy URL; the listen error (e.g. EADDRINUSE) otherwise.
 */
export async function createProxyServer(options: ProxyOptions): Promise<RunningProxy> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host)) throw new CoreError('ERR_BAD_REQUEST', `the proxy only binds to loopback, not ${String(host)}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new CoreError('ERR_BAD_REQUEST', 'the proxy port must be 0-65535');
  if (options.mode !== undefined && options.mode !== 'monitor' && options.mode !== 'enforce') throw new CoreError('ERR_BAD_REQUEST', `unknown proxy mode ${String(options.mode)}`);
  const ctx = createContext(options);
  const serverOptions: ServerOptions = {
    maxHeaderSize: ctx.limits.maxHeaderBytes,
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    keepAliveTimeout: ctx.limits.keepAliveTimeoutMs,
    headersTimeout: ctx.limits.headersTimeoutMs,
    // Node checks the head deadline on this interval (default 30 s); keep it proportionate.
    connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(ctx.limits.headersTimeoutMs / 2))),
    // Streaming uploads may take long; slow request heads are cut by headersTimeout.
    requestTimeout: 0,
    noDelay: true,
    shouldUpgradeCallback: isWebSocketUpgrade,
  };
  const onClientError = (error: Error, socket: Duplex): void => clientError(ctx, error, socket);
  const inspector = createInspector(ctx, serverOptions, onClientError);
  const server = createServer(serverOptions);
  server.maxConnections = ctx.limits.maxConnections;

  server.on('connection', (socket: Socket) => {
    if (ctx.closing) {
      socket.destroy();
      return;
    }
    if (!isLoopbackAddress(socket.remoteAddress)) {
      ctx.log.warn('proxy refused a non-loopback client', { remoteAddress: socket.remoteAddress });
      socket.destroy();
      return;
    }
    ctx.counters.connections++;
    track(ctx, socket);
    startAttribution(ctx, socket);
  });
  server.on('clientError', onClientError);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const ex = plainExchange(ctx, req);
    if (typeof ex === 'string') {
      if (ex === '') return void answerSelf(req, res);
      ctx.counters.malformed++;
      sendError(res, 400, ex, true);
      return;
    }
    handleExchange(ctx, req, res, ex).catch((error: unknown) => {
      ctx.log.error('proxy request failed', { error });
      res.destroy();
    });
  };
  server.on('request', onRequest);
  // Expect: 100-continue is answered only once policy allowed the request (handleExchange), so a
  // denied client never uploads its body.
  server.on('checkContinue', onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ex = plainExchange(ctx, req);
    if (typeof ex === 'string') {
      ctx.counters.malformed++;
      writeError(socket, 400, ex || 'upgrades to the proxy itself are not supported');
      return;
    }
    handleWebSocket(ctx, req, socket, head, ex).catch((error: unknown) => {
      ctx.log.error('proxy upgrade failed', { error });
      socket.destroy();
    });
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(ctx, inspector, req, socket as Socket, head).catch((error: unknown) => {
      ctx.log.error('proxy tunnel failed', { error });
      socket.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => ctx.log.error('proxy server error', { error }));
  const port = (server.address() as AddressInfo).port;
  ctx.port = port;
  const upstream = compileUpstream(options.upstream, port);
  ctx.upstream = upstream;
  for (const label of upstream.dropped) ctx.log.warn('proxy ignores an upstream proxy that points at itself', { upstream: label });
  const url = `http://${authorityOf(host, port)}`;
  ctx.log.info('proxy listening', { url, mode: ctx.mode, tunnels: `relayed ${ctx.tunnelRelay}` });

  let closing: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    mode: () => ctx.mode,
    setMode(mode) {
      if (mode !== 'monitor' && mode !== 'enforce') throw new CoreError('ERR_BAD_REQUEST', `unknown proxy mode ${String(mode)}`);
      ctx.mode = mode;
    },
    stats: () => ({ ...ctx.counters }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        ctx.closing = true;
        for (const end of [...ctx.tunnelEnds]) end();
        server.close(() => resolve());
        inspector.close();
        for (const socket of ctx.sockets) socket.destroy();
        ctx.httpAgent.destroy();
        ctx.httpsAgent.destroy();
      }).then(() => recorded(ctx));
      return closing;
    },
  };
}

/** Waits (bounded) for the audit records of tunnels that were still counting their bytes. */
async function recorded(ctx: ProxyContext): Promise<void> {
  if (ctx.recording.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, RECORD_WAIT_MS)));
  await Promise.race([Promise.all(ctx.recording), bound]);
  clearTimeout(timer);
}

/** The exchange for an absolute-form request, '' for the proxy's own path, or why it is refused. */
function plainExchange(ctx: ProxyContext, req: IncomingMessage): Exchange | string {
  const url = req.url ?? '';
  if (url.startsWith('/') || url === '*') {
    if (url === HEALTH_PATH && req.method === 'GET') return '';
    return 'this is a forward proxy: send absolute-form requests (http://host/path) or CONNECT host:port';
  }
  const parsed = parseAbsoluteTarget(url);
  if (!parsed.ok) return `bad request target: ${parsed.reason}`;
  const { host, port, path } = parsed.target;
  if (isProxyLoop(host, port, ctx.port)) return 'the request target is this proxy';
  return { kind: 'http', origin: { scheme: 'http', host, port }, path, socket: req.socket };
}

function answerSelf(_req: IncomingMessage, res: ServerResponse): void {
  const body = 'Cordon proxy: ok\n';
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** A request Node's parser refused (bad request line, oversized head, smuggling shapes): 400 and close. */
function clientError(ctx: ProxyContext, error: Error, socket: Duplex): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  ctx.counters.malformed++;
  ctx.log.debug('proxy refused a malformed request', { code });
  // A response already under way cannot be followed by a 400 on the same connection.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return writeError(socket, 408, 'the request head did not arrive in time');
  const why = code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : `malformed request (${code ?? 'parse error'})`;
  writeError(socket, 400, why);
}
