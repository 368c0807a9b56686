/**
 * WebSocket upgrades through the proxy (absolute-form `ws://` / `http://` targets, and requests
 * inside inspected tunnels): decide on the handshake, relay it to the origin, and once the origin
 * answers 101 splice the two sockets. Frames are not parsed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { admit, recordOutcome, type Admitted } from './admission.ts';
import { writeBlocked, writeError } from './blockResponse.ts';
import { track, type ProxyContext } from './context.ts';
import { endToEndHeaders, framingProblem, policyHeaders, upgradeHeaders } from './headers.ts';
import { originRequest, type Exchange } from './origin.ts';
import { hostHeaderOf } from './target.ts';
import { reachFailure } from './upstream.ts';

const DROP: ReadonlySet<string> = new Set(['host']);

/** Handles one upgrade request on a raw client socket; never throws. */
export async function handleWebSocket(ctx: ProxyContext, req: IncomingMessage, client: Duplex, head: Buffer, ex: Exchange): Promise<void> {
  ctx.counters.requests++;
  client.on('error', () => client.destroy());
  const problem = framingProblem(req);
  if (problem !== null) {
    ctx.counters.malformed++;
    writeError(client, 400, `malformed request: ${problem}`);
    return;
  }
  const admitted = await admit(
    ctx,
    ex.socket,
    { kind: ex.kind, host: ex.origin.host, port: ex.origin.port, method: req.method ?? 'GET', path: ex.path, headers: policyHeaders(req), ...(ex.sni !== undefined ? { sni: ex.sni } : {}) },
    (decision, auditId) => writeBlocked(client, decision, auditId),
  );
  if (admitted === null) return;
  if (client.destroyed) {
    recordOutcome(ctx, admitted, { outcome: 'failed', status: null, upgrade: 'websocket', error: 'the client went away before the decision' });
    return;
  }
  const target = hostHeaderOf(ex.origin.host, ex.origin.port, ex.origin.scheme === 'https' ? 443 : 80);
  const headers = upgradeHeaders(req.rawHeaders, DROP);
  headers.push('Host', target, 'Via', `${req.httpVersion} cordon`);
  const out = originRequest(ctx, ex.origin, 'GET', ex.path, headers);
  out.on('upgrade', (response: IncomingMessage, origin: Socket, originHead: Buffer) => splice(ctx, admitted, client, head, response, origin, originHead));
  out.on('response', (response: IncomingMessage) => refusedUpgrade(ctx, admitted, client, response));
  out.on('error', (error) => {
    const failure = reachFailure(error, target);
    writeError(client, failure.status, failure.message);
    recordOutcome(ctx, admitted, { outcome: 'failed', status: failure.status, upgrade: 'websocket', error: failure.message });
  });
  client.once('close', () => out.destroy());
  out.end();
}

function splice(ctx: ProxyContext, admitted: Admitted, client: Duplex, head: Buffer, response: IncomingMessage, origin: Socket, originHead: Buffer): void {
  track(ctx, origin);
  origin.setNoDelay(true);
  (client as Partial<Socket>).setNoDelay?.(true);
  client.write(statusHead(response, response.rawHeaders));
  if (originHead.length > 0) client.write(originHead);
  if (head.length > 0) origin.write(head);
  const startUp = origin.bytesWritten;
  const startDown = origin.bytesRead;
  let recorded = false;
  const end = (): void => {
    client.destroy();
    origin.destroy();
    if (recorded) return;
    recorded = true;
    recordOutcome(ctx, admitted, {
      outcome: 'forwarded',
      status: 101,
      upgrade: 'websocket',
      bytesUp: origin.bytesWritten - startUp,
      bytesDown: origin.bytesRead - startDown,
    });
  };
  origin.on('error', end);
  client.on('error', end);
  origin.once('close', end);
  client.once('close', end);
  origin.pipe(client);
  client.pipe(origin);
}

/** The origin answered the handshake with something other than 101: pass that answer on and close. */
function refusedUpgrade(ctx: ProxyContext, admitted: Admitted, client: Duplex, response: IncomingMessage): void {
  const headers = endToEndHeaders(response.rawHeaders);
  headers.push('Connection', 'close');
  client.write(statusHead(response, headers));
  let bytesDown = 0;
  response.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
  response.pipe(client);
  response.once('end', () => recordOutcome(ctx, admitted, { outcome: 'forwarded', status: response.statusCode ?? 502, upgrade: 'websocket', bytesDown, error: 'the origin refused the upgrade' }));
}

function statusHead(response: IncomingMessage, rawHeaders: readonly string[]): string {
  const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
