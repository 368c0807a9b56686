/**
 * The fleet server as an object: an HTTP(S) listener routing /v1/ (devices, DPoP) and /admin/v1/
 * (console API) over one FleetStore. Every failure of a request becomes a JSON error answer; a
 * handler bug is logged and answered 500, never a crash. server/main.ts is the CLI around it.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreError } from '../app/api/errors.ts';
import { SECURITY_HEADERS } from '../app/console/guard.ts';
import { staticFile } from '../app/console/staticFiles.ts';
import { createDpopVerifier } from '../app/identity/dpop/verify.ts';
import type { Logger } from '../app/util/log.ts';
import { consoleRoutes } from './admin/consoleRoutes.ts';
import { adminRoutes } from './admin/routes.ts';
import { createAdminGuard, sessionRoutes } from './auth/consoleAuth.ts';
import { createDeviceAuthenticator } from './http/deviceAuth.ts';
import { HttpError, sendError, sendJson } from './http/respond.ts';
import { createRouter, type Route } from './http/router.ts';
import type { FleetStore } from './store/fleetStore.ts';
import { syncRoutes } from './sync/routes.ts';
import { cordonVersion } from '../app/util/version.ts';
import { clientAddress, parseTrustedProxies, type TrustedProxies } from './http/clientAddress.ts';

export type FleetServerOptions = Readonly<{
  store: FleetStore;
  log: Logger;
  /**
   * The origin devices address (https://fleet.example.com), used for DPoP htu checks behind a
   * TLS-terminating proxy. Default: this listener's scheme plus the request's Host header.
   */
  publicUrl?: string;
  /** Serve HTTPS directly with this PEM certificate chain and key. */
  tls?: Readonly<{ cert: string; key: string }>;
  clock?: () => number;
  /** The built web console (`npm run build:console`); default dist/console in the repository. */
  consoleDir?: string;
  /** Reverse proxies whose X-Forwarded-For is believed (`--trusted-proxy`); default none. */
  trustedProxies?: TrustedProxies;
}>;

/** Where `npm run build:console` writes the web console. */
export const DEFAULT_CONSOLE_DIR = new URL('../dist/console/', import.meta.url).pathname;
/** Paths the API owns; everything else GET is the console's (files, or index.html for its routes). */
const API_PREFIXES = ['/v1/', '/admin/', '/console/api/', '/healthz'];

export type FleetServer = Readonly<{
  server: Server;
  /** Listens; resolves to the base URL (http://127.0.0.1:PORT). */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}>;

export function createFleetServer(options: FleetServerOptions): FleetServer {
  const { store, log } = options;
  const clock = options.clock ?? Date.now;
  const publicBase = options.publicUrl !== undefined ? originOf(options.publicUrl) : null;
  const scheme = options.tls ? 'https' : 'http';
  const verifier = createDpopVerifier({ replayCache: store.dpop.replayCache, nonceStore: store.dpop.nonceStore, requireNonce: true, clock });
  const rekeyVerifier = createDpopVerifier({ replayCache: store.dpop.replayCache, clock });
  const guard = createAdminGuard({ accounts: store.accounts, credentials: store.credentials });
  const consoleDir = options.consoleDir ?? DEFAULT_CONSOLE_DIR;
  const trustedProxies = options.trustedProxies ?? parseTrustedProxies([]);
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/healthz',
      async handler(ctx) {
        await store.driver.get('SELECT 1 AS ok');
        sendJson(ctx.res, 200, { ok: true });
      },
    },
    ...syncRoutes({ store, auth: createDeviceAuthenticator(verifier, store.devices), rekeyVerifier }),
    ...adminRoutes(store, guard),
    ...consoleRoutes(store, guard, cordonVersion()),
    ...sessionRoutes({ accounts: store.accounts, guard }),
  ];
  const router = createRouter(routes);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const raw = req.url ?? '/';
    try {
      if (!raw.startsWith('/')) throw new HttpError(400, 'invalid_request', 'the request target must be a path');
      const url = new URL(raw, 'http://fleet.invalid');
      const host = req.headers.host;
      if (!publicBase && (host === undefined || !/^[A-Za-z0-9.[\]:-]{1,300}$/.test(host))) throw new HttpError(400, 'invalid_request', 'a valid Host header is required');
      const publicUrl = `${publicBase ?? `${scheme}://${host}`}${url.pathname}`;
      if ((req.method === 'GET' || req.method === 'HEAD') && !API_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) {
        serveConsole(res, consoleDir, url.pathname, publicUrl.startsWith('https:'), req.method === 'HEAD');
        return;
      }
      const { handler, params } = router.match(req.method ?? 'GET', url.pathname);
      await handler({ req, res, url, publicUrl, params, clientAddress: clientAddress(req, trustedProxies), now: clock(), log });
    } catch (error) {
      if (error instanceof HttpError) {
        sendError(res, error.status, error.code, error.message, error.headers, error.problems);
      } else {
        log.error('request failed', { method: req.method, path: raw.split('?')[0]?.slice(0, 200), error });
        sendError(res, 500, 'internal', 'internal server error');
      }
    } finally {
      log.debug('request', { method: req.method, path: raw.split('?')[0]?.slice(0, 200), status: res.statusCode, ms: Math.round(performance.now() - started) });
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => undefined);
    handle(req, res).catch((error: unknown) => {
      log.error('response failed', { error });
      res.destroy();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 10_000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`${scheme}://${shown}:${address.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function serveConsole(res: ServerResponse, dir: string, path: string, secure: boolean, head: boolean): void {
  const file = staticFile(dir, path, 'npm run build:console');
  res.writeHead(file.status, {
    ...SECURITY_HEADERS,
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...(secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  });
  res.end(head ? undefined : file.body);
}

function originOf(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', 'the public URL does not parse');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CoreError('ERR_BAD_REQUEST', 'the public URL must be an http(s) URL');
  return url.origin;
}
