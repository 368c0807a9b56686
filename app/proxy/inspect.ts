/**
 * TLS inspection for the tunnels policy selects: terminate the client's TLS with a leaf from
 * hooks.tls, parse HTTP/1.1 inside with an in-process http.Server, and decide and forward each
 * request on its own (kind "https") to the origin over verified TLS. Other tunnels never come here.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import { recordOutcome, type Admitted } from './admission.ts';
import { CONNECT_ESTABLISHED, sendError, writeError } from './blockResponse.ts';
import { inheritPrincipal, track, type ProxyContext } from './context.ts';
import { handleExchange } from './httpForward.ts';
import type { Exchange } from './origin.ts';
import { authorityOf, parseAbsoluteTarget, type Target } from './target.ts';
import { handleWebSocket } from './websocket.ts';

export type Inspector = Readonly<{
  /** Takes over an admitted CONNECT tunnel: answers 200 and terminates TLS. */
  inspect(client: Socket, head: Buffer, target: Target, admitted: Admitted): Promise<void>;
  close(): void;
}>;

type TunnelInfo = { readonly host: string; readonly port: number };

/** The inner HTTP server all inspected tunnels feed (it never listens on a port). */
export function createInspector(ctx: ProxyContext, serverOptions: ServerOptions, onClientError: (error: Error, socket: Duplex) => void): Inspector {
  const tunnels = new WeakMap<Duplex, TunnelInfo>();
  const inner: Server = createServer(serverOptions);
  inner.on('clientError', onClientError);
  inner.on('connect', (_req: IncomingMessage, socket: Duplex) => writeError(socket, 400, 'CONNECT inside a tunnel is not supported'));
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const ex = exchangeOf(req, tunnels.get(req.socket));
    if (typeof ex === 'string') {
      ctx.counters.malformed++;
      sendError(res, 400, ex, true);
      return;
    }
    handleExchange(ctx, req, res, ex).catch((error: unknown) => {
      ctx.log.error('proxy inspected request failed', { error });
      res.destroy();
    });
  };
  inner.on('request', onRequest);
  inner.on('checkContinue', onRequest);
  inner.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ex = exchangeOf(req, tunnels.get(req.socket));
    if (typeof ex === 'string') {
      ctx.counters.malformed++;
      writeError(socket, 400, ex);
      return;
    }
    handleWebSocket(ctx, req, socket, head, ex).catch((error: unknown) => {
      ctx.log.error('proxy inspected upgrade failed', { error });
      socket.destroy();
    });
  });

  return {
    close: () => inner.close(),
    async inspect(client, head, target, admitted) {
      const provider = ctx.hooks.tls;
      let context: SecureContext;
      try {
        if (!provider) throw new Error('no TLS provider');
        context = await provider.secureContextFor(target.host);
      } catch (error) {
        ctx.log.error('proxy could not get a certificate for an inspected host', { host: target.host, error });
        const message = `Cordon could not issue a certificate for ${target.host}`;
        writeError(client, 502, message);
        recordOutcome(ctx, admitted, { outcome: 'failed', status: 502, inspected: true, error: message });
        return;
      }
      if (client.destroyed) {
        recordOutcome(ctx, admitted, { outcome: 'failed', status: null, inspected: true, error: 'the client went away' });
        return;
      }
      client.setNoDelay(true);
      client.write(CONNECT_ESTABLISHED);
      if (head.length > 0) client.unshift(head);
      const tlsSocket = new TLSSocket(client, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ['http/1.1'],
        SNICallback: (name, cb) => {
          const sni = name.toLowerCase();
          if (sni === target.host) return cb(null, context);
          // A name other than the CONNECT host is only accepted when CONNECT named an IP: policy
          // approved this destination, not whatever the ClientHello claims.
          if (isIP(target.host) === 0) return cb(new Error(`SNI ${sni} does not match the tunnel`), undefined);
          Promise.resolve(provider?.secureContextFor(sni)).then(
            (c) => cb(null, c),
            (error: Error) => cb(error, undefined),
          );
        },
      });
      tunnels.set(tlsSocket, { host: target.host, port: target.port });
      inheritPrincipal(ctx, client, tlsSocket as unknown as Socket);
      track(ctx, tlsSocket);
      let secured = false;
      let tlsError: string | undefined;
      tlsSocket.once('secure', () => (secured = true));
      tlsSocket.on('error', (error: NodeJS.ErrnoException) => {
        tlsError ??= error.code ?? 'error';
        tlsSocket.destroy();
      });
      const startIn = client.bytesRead;
      const startOut = client.bytesWritten;
      tlsSocket.once('close', () => {
        client.destroy();
        // Usually the client refusing the Cordon CA: worth a line in the audit trail.
        const handshake = secured ? undefined : `TLS with the client failed (${tlsError ?? 'closed during the handshake'})`;
        recordOutcome(ctx, admitted, {
          outcome: handshake === undefined ? 'forwarded' : 'failed',
          status: 200,
          inspected: true,
          bytesUp: client.bytesRead - startIn,
          bytesDown: client.bytesWritten - startOut,
          ...(handshake !== undefined ? { error: handshake } : {}),
        });
      });
      client.once('close', () => tlsSocket.destroy());
      inner.emit('connection', tlsSocket);
    },
  };
}

/** The exchange for a request inside a tunnel, or why it is refused. */
function exchangeOf(req: IncomingMessage, tunnel: TunnelInfo | undefined): Exchange | string {
  if (tunnel === undefined) return 'request outside an inspected tunnel';
  const tlsSocket = req.socket as TLSSocket;
  const servername = typeof (tlsSocket as { servername?: unknown }).servername === 'string' ? ((tlsSocket as { servername: string }).servername.toLowerCase() || undefined) : undefined;
  let path = req.url ?? '';
  if (!path.startsWith('/')) {
    const absolute = parseAbsoluteTarget(path.replace(/^https:\/\//i, 'http://'));
    if (!absolute.ok || absolute.target.host !== tunnel.host) return 'the request target does not match the tunnel';
    path = absolute.target.path;
  }
  const hostHeader = req.headers.host;
  if (hostHeader !== undefined) {
    const named = hostOf(hostHeader);
    if (named === null || (named !== tunnel.host && named !== servername)) {
      return `the Host header does not match the tunnel to ${authorityOf(tunnel.host, tunnel.port)}`;
    }
  }
  const origin = {
    scheme: 'https' as const,
    host: tunnel.host,
    port: tunnel.port,
    ...(servername !== undefined && isIP(servername) === 0 ? { servername } : {}),
  };
  return { kind: 'https', origin, path, socket: tlsSocket as unknown as Socket, ...(servername !== undefined ? { sni: servername } : {}) };
}

function hostOf(hostHeader: string): string | null {
  const parsed = parseAbsoluteTarget(`http://${hostHeader}/`);
  return parsed.ok ? parsed.target.host : null;
}
