/**
 * The daemon's local web console: the built React app plus a JSON API limited to the UI methods,
 * on loopback only, behind a per-session secret and Host/Origin checks so no web page can drive it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreError, toErrorData, type CoreErrorCode } from '../api/errors.ts';
import type { CordonEvent } from '../api/control.ts';
import { isUiMethod } from '../api/uiClient.ts';
import type { Logger } from '../util/log.ts';
import { SECURITY_HEADERS, checkHost, checkOrigin, isJsonContentType, readCookie, sameSecret, sessionCookieName, type GuardRefusal } from './guard.ts';
import { staticFile } from './staticFiles.ts';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_STREAMS = 16;
const MAX_SESSIONS = 32;
const KEEPALIVE_MS = 15_000;
/** Header a non-browser client (or the page, once) presents the secret in. */
export const SECRET_HEADER = 'x-cordon-secret';

export type LocalConsoleOptions = {
  /** Runs one control method (the daemon's handlers); only UI methods ever reach it. */
  call(method: string, params: unknown): Promise<unknown>;
  /** Live events; returns an unsubscribe function. */
  subscribe(listener: (event: CordonEvent) => void): () => void;
  /** The built console (index.html + assets). */
  staticDir: string;
  /** 0 or absent: any free port. */
  port?: number;
  log: Logger;
};

export type LocalConsole = {
  /** http://127.0.0.1:PORT/ (without the secret). */
  readonly url: string;
  readonly port: number;
  /** base64url of 32 random bytes; never log it. */
  readonly secret: string;
  close(): Promise<void>;
};

/** Starts the console on 127.0.0.1. The secret is new on every start. */
export async function startLocalConsole(options: LocalConsoleOptions): Promise<LocalConsole> {
  const secret = randomBytes(32).toString('base64url');
  const sessions = new Set<string>();
  const streams = new Set<ServerResponse>();
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log.warn('console request failed', { error: toErrorData(error).message });
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'ERR_INTERNAL', message: 'internal error' } });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const hostRefusal = checkHost(req.headers, port);
    if (hostRefusal) return refuse(res, hostRefusal);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
      const file = staticFile(options.staticDir, path);
      res.writeHead(file.status, { 'Content-Type': file.type, 'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    const originRefusal = checkOrigin(req.headers, port);
    if (originRefusal) return refuse(res, originRefusal);
    if (path === '/api/session') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      if (!sameSecret(req.headers[SECRET_HEADER], secret)) return refuse(res, { status: 401, reason: 'missing or wrong console secret' });
      await drain(req);
      const token = randomBytes(32).toString('base64url');
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.values().next().value as string);
      sessions.add(token);
      res.setHeader('Set-Cookie', `${sessionCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/api`);
      return sendJson(res, 200, { ok: true, value: { session: true } });
    }
    if (!authenticated(req)) return refuse(res, { status: 401, reason: 'no console session: open the console with `cordon ui`' });
    if (path === '/api/call') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      if (!isJsonContentType(req.headers)) return sendError(res, 415, 'ERR_BAD_REQUEST', 'Content-Type must be application/json');
      const body = await readBody(req);
      if (body === null) return sendError(res, 413, 'ERR_BAD_REQUEST', `request body larger than ${MAX_BODY_BYTES} bytes`);
      return callMethod(res, body);
    }
    if (path === '/api/events') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return openStream(req, res);
    }
    return sendError(res, 404, 'ERR_NOT_FOUND', `no such endpoint ${path}`);
  };

  const authenticated = (req: IncomingMessage): boolean => {
    if (sameSecret(req.headers[SECRET_HEADER], secret)) return true;
    const token = readCookie(req.headers, sessionCookieName(port));
    return token !== null && [...sessions].some((s) => sameSecret(token, s));
  };

  const callMethod = async (res: ServerResponse, body: string): Promise<void> => {
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch {
      return sendError(res, 400, 'ERR_BAD_REQUEST', 'the body is not valid JSON');
    }
    if (!request || typeof request !== 'object' || Array.isArray(request)) return sendError(res, 400, 'ERR_BAD_REQUEST', 'the body must be an object {method, params}');
    const { method, params } = request as { method?: unknown; params?: unknown };
    if (typeof method !== 'string') return sendError(res, 400, 'ERR_BAD_REQUEST', 'method must be a string');
    if (!isUiMethod(method)) return sendError(res, 403, 'ERR_UNKNOWN_METHOD', `method '${method.slice(0, 64)}' is not available to the console`);
    if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
      return sendError(res, 400, 'ERR_BAD_REQUEST', 'params must be an object');
    }
    try {
      const value = await options.call(method, params ?? {});
      return sendJson(res, 200, { ok: true, value });
    } catch (error) {
      const data = toErrorData(error);
      if (!(error instanceof CoreError)) options.log.warn('console call failed', { method, error: data.message });
      return sendError(res, statusOf(data.code), data.code, error instanceof CoreError ? data.message : 'internal error');
    }
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    if (streams.size >= MAX_STREAMS) return sendError(res, 429, 'ERR_BAD_REQUEST', 'too many event streams');
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    const unsubscribe = options.subscribe((event) => {
      res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const end = (): void => {
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('error', end);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (error) => options.log.warn('console server error', { error: error.message }));
  options.log.info('local console listening', { url: `http://127.0.0.1:${port}/` });

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    secret,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function statusOf(code: CoreErrorCode): number {
  switch (code) {
    case 'ERR_BAD_REQUEST':
    case 'ERR_SETTINGS_INVALID':
      return 400;
    case 'ERR_UNKNOWN_METHOD':
      return 400;
    case 'ERR_NOT_FOUND':
    case 'ERR_KEY_NOT_FOUND':
      return 404;
    case 'ERR_SETTINGS_LOCKED':
      return 403;
    case 'ERR_DAEMON_UNREACHABLE':
    case 'ERR_KEYCHAIN_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

/** Reads the body up to MAX_BODY_BYTES; null when it is larger (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req);
}

function refuse(res: ServerResponse, refusal: GuardRefusal): void {
  sendError(res, refusal.status, 'ERR_BAD_REQUEST', refusal.reason);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'ERR_BAD_REQUEST', `method not allowed (use ${allow})`);
}

function sendError(res: ServerResponse, status: number, code: CoreErrorCode, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
