/**
 * The daemon's local control API: the typed contract between the daemon and its clients (the
 * `cordon` CLI, the tray app, the local console). Transport: newline-delimited JSON over a Unix
 * socket in a 0700 per-user runtime dir (a named pipe on Windows).
 *
 *   request   {"id": 1, "method": "status", "params": {}}
 *   response  {"id": 1, "ok": true, "value": ...} | {"id": 1, "ok": false, "error": {"code", "message"}}
 *   push      {"event": "event", "data": CordonEvent}   (after a "subscribe" request)
 *
 * Types only: this file imports nothing at run time, so every process may import it.
 */
import type { Approval, ApprovalAnswer } from './approvals.ts';
import type { Decision } from './enforcement.ts';
import type { ErrorData } from './errors.ts';
import type { EffectivePolicyView, LocalAction, PolicyProblem } from './policy.ts';
import type { SettingsReport } from './settings.ts';
import type { Inventory } from './inventory.ts';

export const CONTROL_PROTOCOL_VERSION = 1;

/** One thing the daemon recorded: an inventory change, a settings change, a daemon lifecycle event. */
export type CordonEvent = {
  /** Monotonic sequence number: a cursor for "events after N". */
  readonly seq: number;
  readonly id: string;
  readonly time: string;
  /** Dotted type, e.g. "server.added", "agent.upgraded", "settings.changed", "daemon.started". */
  readonly type: string;
  readonly subjectId: string | null;
  readonly summary: string;
  readonly data: unknown;
};

export type EventQuery = {
  readonly afterSeq?: number;
  /** ISO time lower bound. */
  readonly since?: string;
  readonly types?: readonly string[];
  readonly limit?: number;
};

export type DaemonStatus = {
  readonly protocolVersion: typeof CONTROL_PROTOCOL_VERSION;
  readonly version: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly mode: string;
  readonly socketPath: string;
  readonly databaseFile: string;
  readonly inventory: {
    readonly scannedAt: string | null;
    readonly agents: number;
    readonly mcpServers: number;
    readonly errors: number;
    readonly lastScanMs: number | null;
  };
  readonly watcher: {
    readonly enabled: boolean;
    readonly paths: number;
    readonly lastChangeAt: string | null;
    readonly scans: number;
  };
  readonly settings: {
    readonly problems: number;
    readonly managedPath: string | null;
  };
  readonly events: { readonly total: number; readonly lastSeq: number | null };
  /** The loopback proxy agents are pointed at; null when it could not start. */
  readonly proxy: {
    readonly url: string;
    readonly port: number;
    readonly mode: string;
    /** The CA bundle `cordon run` points NODE_EXTRA_CA_CERTS and friends at. */
    readonly caFile: string | null;
    readonly stats: unknown;
  } | null;
  readonly keychain: { readonly available: boolean; readonly error: string | null };
  /** The exported CA bundle (what NODE_EXTRA_CA_CERTS and friends point at). */
  readonly ca: { readonly bundle: string | null };
  readonly policy: { readonly problems: number; readonly rules: number };
  readonly approvals: { readonly pending: number };
  /** Set while protection is paused (monitor mode until then). */
  readonly paused: { readonly until: string } | null;
  /** Fleet sync: enrollment and delivery state; null when the keychain is unavailable. */
  readonly fleet: {
    /** disabled (no fleet server), not-enrolled, idle, syncing, backing-off, revoked. */
    readonly phase: string;
    readonly serverUrl: string | null;
    readonly deviceId: string | null;
    readonly lastSuccessAt: string | null;
    readonly lastError: string | null;
    readonly pendingEvents: number;
    readonly policyVersion: number | null;
  } | null;
  /** The local web console (`cordon ui` opens it with its per-session secret); null when not running. */
  readonly console: { readonly url: string } | null;
};

export type KeySummary = {
  readonly keyId: string;
  readonly purpose: 'dpop' | 'device';
  /** Agent identity id ("kind:exe@user") or "device". */
  readonly ownerId: string;
  readonly agentKind: string | null;
  /** RFC 7638 thumbprint. */
  readonly thumbprint: string;
  readonly alg: string;
  readonly created: string;
  readonly lastUsed: string | null;
};

export type LocalActionRequest = {
  readonly action: LocalAction;
  /** Agent kind as the hook knows it ("claude-code", "cursor", ...). */
  readonly agent: string;
  /** The process asking (the hook program or gateway): its parent chain leads to the agent. */
  readonly pid?: number;
  readonly sessionId?: string;
  readonly cwd?: string;
  /** Who asks: "hook:<agent>" or "mcp-gateway:<server>". */
  readonly source: string;
  /** MCP gateway only: what the tools/call carried (names and a hash, never values). */
  readonly details?: McpCallDetails;
};

/** The record of one MCP tools/call's arguments: which names, and a hash to correlate calls. */
export type McpCallDetails = {
  /** Top-level argument names, sorted (at most 64). */
  readonly argNames: readonly string[];
  /** "sha256:<hex>" of the canonical JSON (sorted keys) of the arguments. */
  readonly argsHash: string;
};

export type LocalActionResult = {
  /** Final: "ask" has already been answered (or timed out) when this returns. */
  readonly action: 'allow' | 'log' | 'deny';
  readonly decision: Decision;
  readonly auditId: string;
  /** A sentence for the agent to show when denied. */
  readonly message: string;
};

/** Method name -> [params, result]. A method added here without a daemon handler fails typecheck. */
/** What the MCP gateway reports when a server's tools changed since they were approved. */
export type McpToolsChange = {
  readonly server: string;
  /** Agent kind the gateway runs for. */
  readonly agent: string;
  /** Tools whose description or input schema changed. */
  readonly changed: readonly string[];
  /** Tools that were not in the approved set. */
  readonly added: readonly string[];
  /** The gateway process (attributed like a local action). */
  readonly pid?: number;
};

export type ControlMethods = {
  status: [Record<string, never>, DaemonStatus];
  inventory: [Record<string, never>, Inventory];
  rescan: [Record<string, never>, { readonly changes: number; readonly inventory: Inventory }];
  events: [EventQuery, readonly CordonEvent[]];
  /** After this, the connection receives {"event":"event","data":CordonEvent} lines. */
  subscribe: [{ readonly afterSeq?: number }, { readonly subscribed: true }];
  shutdown: [Record<string, never>, { readonly stopping: true }];
  /** Pending approvals, and with `all` the recent settled ones too. */
  approvals: [{ readonly all?: boolean }, readonly Approval[]];
  answerApproval: [{ readonly id: string; readonly answer: ApprovalAnswer }, Approval];
  /**
   * A local action an agent is about to take (a shell command, a file access, an MCP tool call),
   * from a hook program or the MCP gateway. "ask" waits for an approval; the answer is final.
   */
  localAction: [LocalActionRequest, LocalActionResult];
  /**
   * The MCP gateway saw a server offer tools that differ from the approved set (a rug pull, or new
   * tools): recorded as an "mcp.tools-changed" audit event. The gateway blocks them either way.
   */
  mcpToolsChanged: [McpToolsChange, { readonly auditId: string }];
  /** The effective layered policy (each rule with its layer and file:line) and its problems. */
  policy: [Record<string, never>, { readonly view: EffectivePolicyView; readonly problems: readonly PolicyProblem[] }];
  /** Effective settings with sources and locks; secret values redacted. */
  settings: [Record<string, never>, SettingsReport];
  /** Agent and device keys (public metadata only). */
  keys: [Record<string, never>, readonly KeySummary[]];
  /** Monitor mode for N minutes (1-1440), unless IT turned pausing off (ERR_SETTINGS_LOCKED). */
  pause: [{ readonly minutes: number }, { readonly until: string }];
  resume: [Record<string, never>, { readonly resumed: true }];
};

export type ControlMethod = keyof ControlMethods;
export type ControlParams<M extends ControlMethod> = ControlMethods[M][0];
export type ControlResult<M extends ControlMethod> = ControlMethods[M][1];

export type ControlRequest = { readonly id: number; readonly method: string; readonly params?: unknown };
export type ControlResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ErrorData };
export type ControlPush = { readonly event: 'event'; readonly data: CordonEvent };
