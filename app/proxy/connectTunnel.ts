/**
 * CONNECT tunnels: decide on the target, connect (directly or through the upstream proxy), answer
 * 200 and splice the sockets. The client's first bytes are peeked for the TLS SNI, which policy
 * sees again when it names another host than CONNECT did; after that the bytes are never looked at.
 * Tunnels policy selects for inspection go to inspect.ts instead.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { admit, recordOutcome, refuseAdmitted, type Admitted } from './admission.ts';
import { CONNECT_ESTABLISHED, writeBlocked, writeError } from './blockResponse.ts';
import { track, type ProxyContext } from './context.ts';
import { blocks, decide, proxyDecision } from './gate.ts';
import type { Inspector } from './inspect.ts';
import { MAX_HELLO_BYTES, peekClientHello } from './tlsPeek.ts';
import { authorityOf, isProxyLoop, parseConnectTarget, type Target } from './target.ts';
import { openTunnel, reachFailure } from './upstream.ts';
import { connectRelayed } from './relay.ts';
import type { KernelRelay } from './spliceRelay.ts';

/**
 * How long a tunnel stays half open in the kernel relay after one side ended its stream, for the
 * other side's last bytes: then both are closed.
 */
export const HALF_CLOSED_GRACE_MS = 10_000;

/** Handles one CONNECT request; never throws. */
export async function handleConnect(ctx: ProxyContext, inspector: Inspector, req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
  ctx.counters.tunnels++;
  client.on('error', () => client.destroy());
  const parsed = parseConnectTarget(req.url);
  if (!parsed.ok) {
    ctx.counters.malformed++;
    writeError(client, 400, `bad CONNECT target: ${parsed.reason}`);
    return;
  }
  const target = parsed.target;
  if (isProxyLoop(target.host, target.port, ctx.port)) {
    ctx.counters.malformed++;
    writeError(client, 400, 'the CONNECT target is this proxy');
    return;
  }
  const refuse = (decision: Parameters<typeof writeBlocked>[1], auditId: string): void => writeBlocked(client, decision, auditId);
  const admitted = await admit(ctx, client, { kind: 'connect', host: target.host, port: target.port }, refuse);
  if (admitted === null) return;
  if (client.destroyed) {
    recordOutcome(ctx, admitted, { outcome: 'failed', status: null, error: 'the client went away before the decision' });
    return;
  }
  if (admitted.decision.inspect === true || admitted.decision.dpop !== undefined) {
    if (ctx.hooks.tls) {
      await inspector.inspect(client, head, target, admitted);
      return;
    }
    if (ctx.mode === 'enforce') {
      const denial = proxyDecision('deny', 'cordon:inspection-unavailable', 'inspection-unavailable', 'policy inspects this destination but TLS inspection is not configured');
      refuseAdmitted(ctx, admitted, denial, refuse);
      return;
    }
  }
  await opaqueTunnel(ctx, client, head, target, admitted);
}

async function opaqueTunnel(ctx: ProxyContext, client: Socket, head: Buffer, target: Target, first: Admitted): Promise<void> {
  let admitted = first;
  const kernel = ctx.kernelRelay;
  let origin: Socket;
  // Without the kernel relay, direct tunnels relay the download side without a stream pipe
  // (relay.ts); through an upstream proxy the socket has already been read as a stream (its
  // CONNECT answer), so it is piped. The kernel relay takes either after what Node has read.
  let relayTo: (client: Socket) => void = () => undefined;
  try {
    const upstream = ctx.upstream.forTunnel(target.host, target.port);
    if (upstream === null && kernel === null) {
      const relayed = await connectRelayed(target.host, target.port, ctx.limits.connectTimeoutMs);
      origin = relayed.socket;
      relayTo = relayed.relayTo;
    } else {
      const opened = await openTunnel(upstream, target.host, target.port, ctx.limits.connectTimeoutMs);
      origin = opened;
      if (kernel === null) relayTo = (to) => void opened.pipe(to);
    }
  } catch (error) {
    const failure = reachFailure(error, authorityOf(target.host, target.port));
    writeError(client, failure.status, failure.message);
    recordOutcome(ctx, admitted, { outcome: 'failed', status: failure.status, error: failure.message });
    return;
  }
  track(ctx, origin);
  if (client.destroyed) {
    origin.destroy();
    recordOutcome(ctx, admitted, { outcome: 'failed', status: null, error: 'the client went away' });
    return;
  }
  const startUp = origin.bytesWritten;
  const startDown = origin.bytesRead;
  // Bytes the kernel relay moved each way, and the relays still running.
  const moved = { up: 0, down: 0 };
  const running = new Set<Promise<unknown>>();
  let recorded = false;
  let cut: string | undefined;
  let ended = false;
  let halfClosed: NodeJS.Timeout | undefined;
  const record = (): void => {
    if (recorded) return;
    recorded = true;
    recordOutcome(ctx, admitted, {
      outcome: cut === undefined ? 'forwarded' : 'failed',
      status: 200,
      bytesUp: origin.bytesWritten - startUp + moved.up,
      bytesDown: origin.bytesRead - startDown + moved.down,
      ...(cut !== undefined ? { error: cut } : {}),
    });
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(halfClosed);
    ctx.tunnelEnds.delete(end);
    if (kernel !== null) {
      // The kernel relay holds its own descriptors: shut the sockets down so it stops too.
      kernel.shutdown(client);
      kernel.shutdown(origin);
    }
    client.destroy();
    origin.destroy();
    // Recorded once the kernel relays have counted their bytes (at once when there are none).
    void Promise.all(running).then(record);
  };
  ctx.tunnelEnds.add(end);
  origin.on('error', () => {
    cut ??= 'the origin connection failed';
    end();
  });
  client.on('error', end);
  origin.once('close', end);
  client.once('close', end);
  client.setNoDelay(true);
  client.write(CONNECT_ESTABLISHED);
  /** One direction through the kernel: a failure ends the tunnel; an end of stream leaves the other direction a grace period. */
  const inKernel = (relay: KernelRelay, from: Socket, to: Socket, direction: 'up' | 'down'): void => {
    const done = relay.relay(from, to).then((result) => {
      running.delete(done);
      if (typeof result === 'string') {
        if (!ended) cut ??= `the kernel relay failed: ${result}`;
        return end();
      }
      moved[direction] += result.bytes;
      // Once the tunnel is ending, its shut-down sockets fail the relay still running: not a cut.
      if (ended) return;
      if (result.errno !== 0) {
        // After one side ended its stream, the other's failing writes are the close, not a cut.
        const originSide = (direction === 'down') === (result.side === 'source');
        if (originSide && halfClosed === undefined) cut ??= 'the origin connection failed';
        return end();
      }
      if (running.size === 0 && upStarted) return end();
      halfClosed ??= setTimeout(end, HALF_CLOSED_GRACE_MS);
    });
    running.add(done);
  };
  let upStarted = false;
  if (kernel !== null) inKernel(kernel, origin, client, 'down');
  else relayTo(client);

  const hello = await readHello(client, head);
  if (hello === null) return;
  const sni = hello.sni ?? undefined;
  if (sni !== undefined) {
    const request = { ...admitted.request, sni };
    if (sni !== target.host) {
      // The name inside TLS is another host than CONNECT named (or CONNECT named an IP): ask again.
      const decision = await decide(ctx, request, admitted.principal);
      admitted = { ...admitted, request, decision };
      if (blocks(decision, ctx.mode)) {
        recorded = true;
        refuseAdmitted(ctx, admitted, decision, () => end(), 200);
        return;
      }
    } else {
      admitted = { ...admitted, request };
    }
  }
  if (origin.destroyed || ended) return;
  if (hello.data.length > 0) origin.write(hello.data);
  upStarted = true;
  if (kernel !== null) inKernel(kernel, client, origin, 'up');
  else client.pipe(origin);
}

/**
 * Collects the client's first bytes until a whole first TLS record (or clearly not TLS). Returns
 * null when the client closed first. The bytes are handed back to be forwarded unchanged.
 */
function readHello(client: Socket, head: Buffer): Promise<{ data: Buffer; sni: string | null } | null> {
  let data = head;
  const peek = peekClientHello(data);
  if (peek.state !== 'need-more') return Promise.resolve({ data, sni: peek.state === 'done' ? peek.sni : null });
  return new Promise((resolve) => {
    const settle = (result: { data: Buffer; sni: string | null } | null): void => {
      client.removeListener('data', onData);
      client.removeListener('end', onEnd);
      client.removeListener('close', onClose);
      client.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      const p = peekClientHello(data);
      if (p.state === 'done') settle({ data, sni: p.sni });
      else if (p.state === 'not-tls' || data.length >= MAX_HELLO_BYTES) settle({ data, sni: null });
    };
    const onEnd = (): void => settle({ data, sni: null });
    const onClose = (): void => settle(null);
    client.on('data', onData);
    client.once('end', onEnd);
    client.once('close', onClose);
  });
}
