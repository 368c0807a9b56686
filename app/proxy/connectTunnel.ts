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
import type { KernelRelay, RelayEnd } from './spliceRelay.ts';

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
    ctx.tunnelEnds.delete(end);
    if (kernel !== null) {
      // The kernel relay holds its own descriptors: shut the sockets down so it stops too.
      kernel.shutdown(client);
      kernel.shutdown(origin);
    }
    client.destroy();
    origin.destroy();
    // Recorded once the kernel relays have counted their bytes (at once when there are none);
    // closing the proxy waits for it.
    if (running.size === 0) return record();
    const recording = Promise.all(running).then(record);
    ctx.recording.add(recording);
    void recording.finally(() => ctx.recording.delete(recording));
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
  /**
   * One direction through the kernel, ending as the JavaScript relay does: the origin's end of
   * stream ends the tunnel (once its bytes are delivered); the client's leaves the download open
   * until the origin ends too (half-close); a failure ends it at once. A refused hand-off relays
   * the direction in JavaScript instead.
   */
  let clientEnded = false;
  const settle = (direction: 'up' | 'down', result: RelayEnd): void => {
    moved[direction] += result.bytes;
    // Once the tunnel is ending, its shut-down sockets fail the relay still running: not a cut.
    if (ended) return;
    if (result.errno !== 0) {
      // After the client ended its side, the origin's refusal of a late write is the close, not a cut.
      const originSide = (direction === 'down') === (result.side === 'source');
      if (originSide && !clientEnded) cut ??= 'the origin connection failed';
      return end();
    }
    if (direction === 'up') clientEnded = true;
    if (direction === 'down' || running.size === 0) end();
  };
  const inKernel = (relay: KernelRelay, from: Socket, to: Socket, direction: 'up' | 'down'): void => {
    const done = relay.relay(from, to).then((result) => {
      running.delete(done);
      if (!('refused' in result)) return settle(direction, result);
      if (ended || result.closed) return end();
      warnOnce(ctx, result.refused);
      // Node's pipe ends the sink after the source's end; the direction is done once that is
      // flushed (or the tunnel closed).
      const piped = new Promise<void>((resolve) => {
        to.once('finish', resolve);
        to.once('close', resolve);
      }).then(() => {
        running.delete(piped);
        settle(direction, { bytes: 0, errno: 0, side: null });
      });
      running.add(piped);
      from.pipe(to);
    });
    running.add(done);
  };
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
  if (kernel !== null) inKernel(kernel, client, origin, 'up');
  else client.pipe(origin);
}

const refusalsWarned = new WeakMap<ProxyContext, Set<string>>();

/** Says once per proxy and reason that the kernel relay refused tunnels (over the pipe quota, out of descriptors). */
function warnOnce(ctx: ProxyContext, reason: string): void {
  const warned = refusalsWarned.get(ctx) ?? new Set<string>();
  refusalsWarned.set(ctx, warned);
  if (warned.has(reason)) return;
  warned.add(reason);
  ctx.log.warn('proxy relays tunnels in JavaScript while the kernel relay refuses them', { reason });
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
