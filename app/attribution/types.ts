/**
 * The attribution contract: what the proxy hands in (the endpoints of an accepted socket), what it
 * gets back (a Principal from app/api/enforcement.ts), and the per-OS source each platform implements.
 */
import type { Inventory } from '../api/inventory.ts';
import type { Principal, ProcessInfo } from '../api/enforcement.ts';
import type { AgentMatch } from './agentMatch.ts';

/**
 * An accepted socket as the PROXY sees it: local = the proxy's listen address and port, remote =
 * the client's. Node's socket.localAddress/localPort/remoteAddress/remotePort, as they are.
 */
export type ConnectionEndpoints = Readonly<{
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}>;

/** The one entry point the daemon uses: connection in, principal out. Never throws for bad input. */
export type Attributor = {
  /** Who is behind an accepted connection. Unattributable connections come back with attributed: false and a reason. */
  attribute(conn: ConnectionEndpoints): Promise<Principal>;
  /**
   * The principal of a process (local actions: hooks, the MCP gateway). Cached per process: while
   * the same pid has the same start time and executable, the chain found in the last
   * PRINCIPAL_CACHE_TTL_MS is reused (one process read instead of one per ancestor); a new
   * inventory empties the cache.
   */
  attributePid(pid: number): Promise<Principal>;
  /** attributePid plus how the agent was recognized (which process, by exe, script, install dir or name). */
  explainPid(pid: number): Promise<PidExplanation>;
  /** Local processes with a TCP socket bound to this local port (debugging: `cordon attribution --port`). */
  socketsByLocalPort(port: number): Promise<readonly LocalSocket[]>;
  /** Counters for the status page and the benchmark. */
  stats(): AttributorStats;
  /** Drops every cache (tests, benchmarks, or after a suspected pid-namespace change). */
  clearCaches(): void;
  /** Stops helper processes (Linux: the sock_diag helper). Later attributions still work, more slowly. */
  close(): void;
};

/** A principal plus how its agent was recognized. */
export type PidExplanation = Readonly<{ principal: Principal; match: AgentMatch | null }>;

export type AttributorOptions = Readonly<{
  /** The current discovery inventory, or null before the first scan (then known executable names are used). */
  inventory: () => Inventory | null;
  /** Which OS facilities to use; defaults to process.platform. */
  platform?: NodeJS.Platform;
  /** Linux: the proc filesystem root (fixture tests point it at a directory tree). */
  procRoot?: string;
  /** Linux: where user names come from. */
  passwdFile?: string;
  /**
   * Whether connections from other users' processes are attributed (a root daemon serving every
   * user). Default false: a per-user daemon labels them unattributed.
   */
  allowOtherUsers?: boolean;
  /**
   * Linux: look sockets up with sock_diag through a small python3 helper (exact lookup, microseconds)
   * instead of scanning /proc/net/tcp (milliseconds on large machines). Default: on when procRoot is
   * the real /proc; falls back to the scan whenever the helper is unavailable.
   */
  sockDiag?: boolean;
  /** A ready-made source (tests of the attributor on fake data); overrides platform. */
  source?: ProcessSource;
  /** The clock attributePid's principal cache ages entries by (tests); default Date.now. */
  now?: () => number;
}>;

export type AttributorStats = Readonly<{
  attributions: number;
  unattributed: number;
  /** attributePid answers reused from its per-process cache (see PRINCIPAL_CACHE_TTL_MS). */
  principalCacheHits: number;
  /** Socket owner found from the cache (same connection again, or a socket seen in an earlier scan). */
  ownerCacheHits: number;
  /** Socket owner needed a scan of the process table. */
  ownerScans: number;
  /** ProcessInfo entries reused (same pid and start time, same executable). */
  processCacheHits: number;
  processReads: number;
  /** Linux: client sockets found with an exact sock_diag lookup, and with a /proc/net/tcp scan. */
  netlinkLookups: number;
  tableScans: number;
}>;

/** One TCP socket and the process holding it (`cordon attribution --port`). */
export type LocalSocket = Readonly<{
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Platform state name ("ESTABLISHED", "LISTEN", ...) as far as it is known. */
  state: string;
  /** Null when the holder cannot be found (another user's process, exited). */
  pid: number | null;
}>;

/**
 * Stable codes at the start of an unattributed Principal's reason ("code: explanation"), so policy
 * and audit can branch on them without parsing prose.
 */
export type UnattributedCode =
  | 'socket-not-found'
  | 'socket-orphaned'
  | 'other-user'
  | 'owner-not-found'
  | 'process-exited'
  | 'unsupported-platform'
  | 'lookup-failed'
  | 'bad-input';

/** Where the client's socket is and who holds it. */
export type SocketOwner =
  | Readonly<{ found: true; pid: number }>
  | Readonly<{ found: false; code: UnattributedCode; message: string }>;

/** A process as a platform reads it: the shared ProcessInfo plus what the chain walk needs. */
export type RawProcess = Readonly<{
  info: ProcessInfo;
  /** True when this process leads its session (the login or terminal shell): the chain stops there. */
  sessionLeader: boolean;
}>;

export type SourceCounters = Omit<AttributorStats, 'attributions' | 'unattributed' | 'principalCacheHits'>;

/** What each OS implements: find the client socket's owner, and read one process. */
export type ProcessSource = {
  readonly platform: string;
  findSocketOwner(conn: ConnectionEndpoints, options: Readonly<{ allowOtherUsers: boolean }>): Promise<SocketOwner>;
  /** Null when the process does not exist (any more). */
  readProcess(pid: number): Promise<RawProcess | null>;
  socketsByLocalPort(port: number): Promise<readonly LocalSocket[]>;
  /** Source-specific counters merged into AttributorStats. */
  counters(): SourceCounters;
  clearCaches(): void;
  close(): void;
};
