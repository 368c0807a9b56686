/**
 * The audit trail contract shared by the daemon, the CLI, the tray UI and the fleet server: one
 * hash-chained event per decision, inventory change or daemon event. Types only.
 */
import type { CordonEvent } from './control.ts';
import type { DecisionAction, ProcessInfo } from './enforcement.ts';

/** The policy outcome recorded on a decision event. */
export type AuditDecision = DecisionAction;

export const AUDIT_DECISIONS: readonly AuditDecision[] = ['allow', 'log', 'ask', 'deny'];

/** Where a request went. The path never carries query values (names only) or a fragment. */
export type AuditDestination = {
  readonly host: string;
  readonly port: number | null;
  readonly method: string | null;
  readonly path: string | null;
};

/**
 * One event of the audit trail. Decision events fill agent, decision, rule, destination and bytes;
 * inventory and daemon events leave them null. `hash` = SHA-256 over the canonical serialization
 * of every other field plus `prevHash`, so any edit, deletion, insertion or reordering shows.
 */
export type AuditEvent = CordonEvent & {
  /** Inventory agent id of the principal, when attributed to an agent. */
  readonly agent: string | null;
  /** Agent kind, e.g. "claude-code". */
  readonly agentKind: string | null;
  readonly decision: AuditDecision | null;
  /** The rule that decided ("layer:rule-id" or "default"). */
  readonly rule: string | null;
  readonly destination: AuditDestination | null;
  readonly bytesUp: number | null;
  readonly bytesDown: number | null;
  /** RFC 7638 thumbprint of the agent key that signed DPoP proofs for this request, if any. */
  readonly keyThumbprint: string | null;
  readonly prevHash: string;
  readonly hash: string;
};

/** One process of a recorded principal chain; argv has secret-looking values replaced by "<redacted>". */
export type AuditProcess = Omit<ProcessInfo, 'startTimeMs'>;

/** The `data` of an egress decision event. */
export type AuditDecisionData = {
  readonly request: {
    readonly kind: 'http' | 'connect' | 'https';
    readonly host: string;
    readonly port: number;
    readonly method: string | null;
    readonly path: string | null;
    readonly sni: string | null;
  };
  readonly principal: {
    readonly attributed: boolean;
    readonly reason: string | null;
    readonly agent: { readonly id: string; readonly kind: string; readonly name: string; readonly pid: number; readonly exe: string | null } | null;
    readonly chain: readonly AuditProcess[];
  };
  readonly decision: {
    readonly action: AuditDecision;
    readonly rule: string;
    readonly layer: string;
    readonly reasons: readonly { readonly code: string; readonly message: string }[];
  };
  readonly keyThumbprint: string | null;
  readonly bytesUp: number | null;
  readonly bytesDown: number | null;
  readonly durationMs: number | null;
  /** HTTP status returned to the client (403 for a block), when there was one. */
  readonly status: number | null;
};

/** The `data` of an "audit.pruned" event: the anchor verification starts from after pruning. */
export type AuditPrunedData = {
  /** Every event with seq <= throughSeq was removed. */
  readonly throughSeq: number;
  /** The hash of the event at throughSeq: the prevHash of the first event kept. */
  readonly throughHash: string;
  readonly removed: number;
  readonly reason: string;
};

export type AuditQuery = {
  /** ISO time, inclusive lower bound. */
  readonly since?: string;
  /** ISO time, exclusive upper bound. */
  readonly until?: string;
  /** Agent id or agent kind. */
  readonly agent?: string;
  readonly decision?: AuditDecision;
  readonly types?: readonly string[];
  readonly afterSeq?: number;
  /** Default 100, at most 10,000. */
  readonly limit?: number;
  /** Default "desc" (newest first). */
  readonly order?: 'asc' | 'desc';
};

export type AuditProblemKind =
  /** A field of the event was changed: its stored hash no longer matches. */
  | 'edited'
  /** prevHash does not match the previous event's hash (changed, inserted or reordered). */
  | 'broken-link'
  /** Sequence numbers are missing between two events (deleted). */
  | 'missing'
  /** The oldest events are gone and no audit.pruned anchor accounts for them. */
  | 'missing-start'
  /** The newest events are gone (sequence counter or head file is ahead of the last event). */
  | 'truncated'
  /** The head file names a hash the database does not have at that seq. */
  | 'head-mismatch';

export type AuditProblem = {
  /** The first event where the problem shows (null when it concerns the end of the chain). */
  readonly seq: number | null;
  readonly kind: AuditProblemKind;
  readonly message: string;
};

export type AuditVerifyResult = {
  readonly ok: boolean;
  /** Number of events checked. */
  readonly checked: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Hash of the newest event: compare with a copy kept elsewhere (fleet) to detect a rewrite. */
  readonly headHash: string | null;
  /** Set when the chain starts at an audit.pruned anchor rather than at the first event ever. */
  readonly anchor: { readonly seq: number; readonly throughSeq: number } | null;
  /** What the head file said: matched, absent (none written), or behind (older than the pruned range). */
  readonly headFile: 'matched' | 'absent' | 'unreadable' | 'behind' | 'mismatch';
  /** The first problem is the first bad event; at most 100 are listed. */
  readonly problems: readonly AuditProblem[];
};

/** Retention: events older than maxAgeDays, or beyond the newest maxRows / maxBytes, are pruned. */
export type AuditRetention = {
  readonly maxAgeDays?: number;
  readonly maxRows?: number;
  /** Approximate bytes of stored event text. */
  readonly maxBytes?: number;
};

export type AuditPruneResult = {
  readonly removed: number;
  readonly throughSeq: number | null;
  /** The audit.pruned event recorded (null when nothing was pruned). */
  readonly anchor: AuditEvent | null;
};
