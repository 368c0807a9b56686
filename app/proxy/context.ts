/**
 * The state one running proxy shares between its handlers: options, limits, connection pools to
 * origins, counters, the open sockets to end on close, and the per-connection principal
 * (attributed once per client connection, bounded in time, never throwing).
 */
import { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, getCACertificates } from 'node:tls';
import type { Principal } from '../api/enforcement.ts';
import type { Logger } from '../util/log.ts';
import type { ProxyEvent, ProxyHooks, ProxyLimits, ProxyMode, ProxyOptions } from './types.ts';
import { compileUpstream, type UpstreamRoutes } from './upstream.ts';
import { createTunnelAgent } from './tunnelAgent.ts';
import { loadSpliceRelay, type KernelRelay } from './spliceRelay.ts';

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 16 * 1024,
  decideTimeoutMs: 60_000,
  attributeTimeoutMs: 2_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  dpopBodyMaxBytes: 1024 * 1024,
  maxConnections: 4096,
  originMaxFreeSockets: 64,
};

export type ProxyCounters = { connections: number; tunnels: number; requests: number; blocked: number; malformed: number };

export type ProxyContext = {
  readonly hooks: ProxyHooks;
  readonly log: Logger;
  readonly limits: ProxyLimits;
  mode: ProxyMode;
  /** The port the proxy listens on (loop detection); set once listening. */
  port: number;
  upstream: UpstreamRoutes;
  /** Keep-alive pool for plain HTTP, direct to origins or to the upstream proxy (absolute-form). */
  readonly httpAgent: HttpAgent;
  /** Keep-alive pool for inspected HTTPS origins (verifies against Node's trust plus originCa). */
  readonly httpsAgent: HttpsAgent;
  readonly counters: ProxyCounters;
  /** Every socket the proxy owns (clients, origins, tunnels): ended on close. */
  readonly sockets: Set<Duplex>;
  /** The zero-copy relay for opaque tunnels, or null: they are relayed in JavaScript. */
  readonly kernelRelay: KernelRelay | null;
  /** How tunnels are relayed, in words (and why not by the kernel), for the start-up log. */
  readonly tunnelRelay: string;
  /** Ends every opaque tunnel (those relayed in the kernel must be shut down, not only destroyed). */
  readonly tunnelEnds: Set<() => void>;
  /** Audit records waiting for a kernel relay's byte counts: closing the proxy waits for them. */
  readonly recording: Set<Promise<void>>;
  /** Latest DPoP-Nonce per agent and origin (bounded). */
  readonly dpopNonces: Map<string, string>;
  closing: boolean;
};

const principals = new WeakMap<Socket, Promise<Principal>>();

export function createContext(options: ProxyOptions): ProxyContext {
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...options.limits };
  // One trust context for every origin connection (a `ca` option would re-parse ~150 roots per
  // connection); without extra CAs Node's default store (with NODE_EXTRA_CA_CERTS) applies as is.
  const extraCa = options.originCa ?? [];
  const trust = extraCa.length > 0 ? { secureContext: createSecureContext({ ca: [...getCACertificates('default'), ...extraCa] }) } : {};
  const agentOptions = { keepAlive: true, maxFreeSockets: limits.originMaxFreeSockets, scheduling: 'lifo' as const };
  const ctx: ProxyContext = {
    hooks: options.hooks,
    log: options.log,
    limits,
    mode: options.mode ?? 'enforce',
    port: options.port,
    // Validated now (a bad URL throws before listening); compiled again once the port is known.
    upstream: compileUpstream(options.upstream, options.port),
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: createTunnelAgent({ ...agentOptions, ...trust }, () => ctx.upstream, limits.connectTimeoutMs),
    counters: { connections: 0, tunnels: 0, requests: 0, blocked: 0, malformed: 0 },
    sockets: new Set(),
    ...kernelRelayOf(options.kernelRelay),
    tunnelEnds: new Set(),
    recording: new Set(),
    dpopNonces: new Map(),
    closing: false,
  };
  return ctx;
}

/** The kernel relay the options ask for (default: the built addon when it loads), and how tunnels are relayed, in words. */
function kernelRelayOf(option: ProxyOptions['kernelRelay']): { kernelRelay: KernelRelay | null; tunnelRelay: string } {
  if (option === false) return { kernelRelay: null, tunnelRelay: 'in JavaScript (the kernel relay is turned off)' };
  const relay = typeof option === 'string' ? loadSpliceRelay(option) : typeof option === 'object' ? option : loadSpliceRelay();
  if (typeof relay === 'string') return { kernelRelay: null, tunnelRelay: `in JavaScript (${relay})` };
  return { kernelRelay: relay, tunnelRelay: 'by the kernel (splice)' };
}

/** Starts attribution for a new client connection (so it overlaps with reading the request). */
export function startAttribution(ctx: ProxyContext, socket: Socket): void {
  if (principals.has(socket)) return;
  const conn = {
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Principal>((resolve) => {
    timer = setTimeout(() => resolve(unattributed(`attribution took longer than ${ctx.limits.attributeTimeoutMs} ms`)), ctx.limits.attributeTimeoutMs);
    timer.unref();
  });
  const attempt = (async () => ctx.hooks.attribute(conn))().then(
    (p) => (isPrincipal(p) ? p : unattributed('the attributor returned no principal')),
    (error: unknown) => {
      ctx.log.warn('proxy attribution failed', { error });
      return unattributed('attribution failed');
    },
  );
  principals.set(
    socket,
    Promise.race([attempt, timeout]).finally(() => clearTimeout(timer)),
  );
}

/** The principal behind a client connection (inspected tunnels pass their outer socket). */
export function principalOf(ctx: ProxyContext, socket: Socket): Promise<Principal> {
  startAttribution(ctx, socket);
  return principals.get(socket) as Promise<Principal>;
}

/** Shares one principal between an outer socket and a socket layered on it (TLS in a tunnel). */
export function inheritPrincipal(ctx: ProxyContext, outer: Socket, inner: Socket): void {
  principals.set(inner, principalOf(ctx, outer));
}

/** Records an audit event; a failing recorder is logged, never thrown into the request path. */
export function recordEvent(ctx: ProxyContext, event: ProxyEvent): string {
  try {
    const id = ctx.hooks.record(event);
    return typeof id === 'string' && id !== '' ? id : 'unrecorded';
  } catch (error) {
    ctx.log.error('proxy audit record failed', { error, host: event.request.host, port: event.request.port });
    return 'unrecorded';
  }
}

/** Tracks a socket until it closes, so close() can end it. */
export function track(ctx: ProxyContext, socket: Duplex): void {
  ctx.sockets.add(socket);
  socket.once('close', () => ctx.sockets.delete(socket));
}

export function unattributed(reason: string): Principal {
  return { attributed: false, reason, chain: [], agent: null };
}

function isPrincipal(value: unknown): value is Principal {
  return typeof value === 'object' && value !== null && typeof (value as Principal).attributed === 'boolean' && Array.isArray((value as Principal).chain);
}
