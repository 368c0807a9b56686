/**
 * The proxy's contract with the daemon: the hooks the daemon provides (attribution, policy, audit,
 * TLS leaves, DPoP proofs), the options and limits, the audit event, and the running handle.
 * Types only.
 */
import type { SecureContext } from 'node:tls';
import type { Decision, EgressRequest, Principal } from '../api/enforcement.ts';
import type { Logger } from '../util/log.ts';
import type { KernelRelay } from './spliceRelay.ts';

/** monitor: decide and record, never block. enforce: block denials and fail closed. */
export type ProxyMode = 'monitor' | 'enforce';

/** The client's TCP connection as the proxy sees it (local = the proxy's end, remote = the client's). */
export type ConnectionInfo = Readonly<{
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}>;

/** TLS leaves for inspected hosts, signed by the Cordon CA (the identity module provides them). */
export type TlsProvider = Readonly<{
  secureContextFor(host: string): SecureContext | Promise<SecureContext>;
}>;

export type DpopAuthorizeRequest = Readonly<{
  method: string;
  /** The absolute request URL (the proof's htu is derived from it). */
  url: string;
  /** Decision.dpop.credential: which stored credential to attach. */
  credential: string;
  /** The server's latest DPoP-Nonce for this agent and origin, when one is known. */
  nonce?: string;
}>;

/** Signs a fresh proof with the calling agent's key and returns the two header values. */
export type DpopAuthorizer = Readonly<{
  authorize(principal: Principal, request: DpopAuthorizeRequest): Promise<{ authorization: string; dpop: string }>;
}>;

/** Callbacks the daemon provides. The proxy never throws into them and survives their failures. */
export type ProxyHooks = Readonly<{
  /** Who is behind a client connection; called once per connection, bounded by limits.attributeTimeoutMs. */
  attribute(conn: ConnectionInfo): Promise<Principal>;
  /**
   * The policy decision for one request or tunnel. May wait (approvals), bounded by
   * limits.decideTimeoutMs. Should resolve "ask" itself; an "ask" that comes back is treated as deny.
   */
  decide(request: EgressRequest, principal: Principal): Decision | Promise<Decision>;
  /** Writes the audit event; returns its id (shown in the 403 answer). Must be fast and synchronous. */
  record(event: ProxyEvent): string;
  /** Needed for TLS inspection (Decision.inspect); without it inspected tunnels fail closed in enforce mode. */
  tls?: TlsProvider;
  /** Needed for DPoP injection (Decision.dpop). */
  dpop?: DpopAuthorizer;
}>;

/** What happened to one request or tunnel. */
export type ProxyOutcome = 'forwarded' | 'blocked' | 'failed';

/**
 * One audit event per request (plain HTTP, inspected HTTPS, WebSocket) or tunnel. Recorded when the
 * exchange ends (blocked ones at once). Never carries header values, bodies or query strings.
 */
export type ProxyEvent = Readonly<{
  /** ISO time the request or tunnel arrived. */
  time: string;
  principal: Principal;
  /** The request as decided, without headers and with the query string removed from path. */
  request: EgressRequest;
  decision: Decision;
  mode: ProxyMode;
  outcome: ProxyOutcome;
  /** Status the client got (for tunnels: the answer to CONNECT); null when the connection just closed. */
  status: number | null;
  /** Body bytes (tunnels: all bytes) sent to the origin and received from it. */
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  /** Why the exchange failed or was cut (our own words, never a secret). */
  error?: string;
  /** Set for WebSocket upgrades. */
  upgrade?: 'websocket';
  /** True for tunnels the proxy terminated (their requests are recorded as kind "https"). */
  inspected?: boolean;
  /** Set when a DPoP credential was attached; nonceRetry when the use_dpop_nonce retry happened. */
  dpop?: Readonly<{ credential: string; nonceRetry: boolean }>;
}>;

export type ProxyLimits = Readonly<{
  /** Largest request head (request line + headers) accepted; bigger gets a 400. */
  maxHeaderBytes: number;
  /** Longest wait for hooks.decide (approvals included) before failing closed. */
  decideTimeoutMs: number;
  /** Longest wait for hooks.attribute before treating the connection as unattributed. */
  attributeTimeoutMs: number;
  /** Longest wait for a TCP (and upstream proxy) connection to an origin. */
  connectTimeoutMs: number;
  /** Longest time a client may take to send a complete request head (slowloris guard). */
  headersTimeoutMs: number;
  /** How long an idle keep-alive client connection stays open. */
  keepAliveTimeoutMs: number;
  /** Largest request body buffered for a DPoP upstream (it may be sent twice). */
  dpopBodyMaxBytes: number;
  /** Concurrent client connections accepted. */
  maxConnections: number;
  /** Idle keep-alive connections kept per origin. */
  originMaxFreeSockets: number;
}>;

/** The corporate proxy the daemon itself must use, and the hosts that bypass it. */
export type UpstreamConfig = Readonly<{
  /** Upstream for plain HTTP requests (HTTP_PROXY). */
  httpProxy?: string;
  /** Upstream for tunnels and inspected HTTPS (HTTPS_PROXY). */
  httpsProxy?: string;
  /** NO_PROXY list: hosts, .suffixes, `*`, host:port, and CIDRs (an extension). */
  noProxy?: string;
}>;

export type ProxyOptions = Readonly<{
  /** Loopback only; default 127.0.0.1. */
  host?: '127.0.0.1' | '::1';
  /** 0 picks a free port. */
  port: number;
  hooks: ProxyHooks;
  log: Logger;
  /** Default enforce. Changeable at run time with RunningProxy.setMode. */
  mode?: ProxyMode;
  upstream?: UpstreamConfig;
  /** Extra PEM CAs trusted for origins of inspected tunnels, on top of Node's default trust. */
  originCa?: readonly string[];
  limits?: Partial<ProxyLimits>;
  /**
   * Opaque tunnels relayed by the kernel (splice, Linux) through the splice relay addon: true (the
   * default) uses the built addon when it loads, a string is the addon's path, an object is a
   * loaded relay (loadSpliceRelay), false relays in JavaScript.
   */
  kernelRelay?: boolean | string | KernelRelay;
}>;

export type ProxyStats = Readonly<{
  connections: number;
  tunnels: number;
  requests: number;
  blocked: number;
  malformed: number;
}>;

export type RunningProxy = Readonly<{
  /** http://127.0.0.1:PORT: the value for HTTP(S)_PROXY. */
  url: string;
  host: string;
  port: number;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): void;
  stats(): ProxyStats;
  /** Stops accepting, then ends every open connection and tunnel. */
  close(): Promise<void>;
}>;
