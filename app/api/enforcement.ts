/**
 * The enforcement contract shared by attribution, policy, the proxy, approvals and audit: who made
 * a request (the principal), what was asked (the request), and what Cordon decided. Types only.
 */

/** One process in a principal chain. */
export type ProcessInfo = {
  readonly pid: number;
  readonly ppid: number | null;
  /** Resolved executable path; null when it cannot be read (another user's process, exited). */
  readonly exe: string | null;
  /** argv; may be truncated for very long command lines. Never logged with secret-looking values. */
  readonly argv: readonly string[];
  readonly uid: number | null;
  readonly user: string | null;
  readonly cwd: string | null;
  /** Process start time (ms since epoch) when known: guards against pid reuse in caches. */
  readonly startTimeMs: number | null;
};

/** The agent a chain was matched to (from the discovery inventory). */
export type AgentPrincipal = {
  /** Inventory AgentRecord.id when matched to an installed agent; otherwise a synthetic id. */
  readonly id: string;
  /** e.g. "claude-code", "codex", "gemini-cli". */
  readonly kind: string;
  readonly name: string;
  /** The process in the chain that is the agent (its pid and exe). */
  readonly pid: number;
  readonly exe: string | null;
};

/**
 * Who is behind a connection: the process that opened it and its parents up to the user's session
 * (self first: curl <- bash <- claude <- zsh), and the agent matched in that chain.
 */
export type Principal = {
  /** False when the connection could not be tied to a local process: policy decides what that means. */
  readonly attributed: boolean;
  readonly reason?: string;
  readonly chain: readonly ProcessInfo[];
  readonly agent: AgentPrincipal | null;
};

export type DecisionAction = 'allow' | 'log' | 'ask' | 'deny';

/** What the proxy knows about one request or tunnel when it asks for a decision. */
export type EgressRequest = {
  /** "http" for absolute-form requests, "connect" for CONNECT tunnels, "https" for inspected requests in a tunnel. */
  readonly kind: 'http' | 'connect' | 'https';
  readonly host: string;
  readonly port: number;
  /** Present when the request is visible (plain HTTP or an inspected tunnel). */
  readonly method?: string;
  readonly path?: string;
  /** Header names and values as sent (for data checks); absent for opaque tunnels. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** TLS SNI seen in an opaque tunnel, when available. */
  readonly sni?: string;
};

/** Why a rule, flag or default decided. One decision may carry several reasons. */
export type DecisionReason = {
  /** Stable code: "rule", "default", "unattributed", "first-seen-destination", "secret-in-url", ... */
  readonly code: string;
  /** Human explanation shown in prompts, audit and the 403 body. */
  readonly message: string;
};

export type Decision = {
  readonly action: DecisionAction;
  /** The rule that decided ("layer:rule-id"), or "default". */
  readonly rule: string;
  /** The policy layer the rule came from. */
  readonly layer: 'builtin' | 'user' | 'managed' | 'fleet' | 'default';
  readonly reasons: readonly DecisionReason[];
  /** Whether the proxy should terminate TLS for this destination (policy selects inspected hosts). */
  readonly inspect?: boolean;
  /** Whether the proxy should attach a DPoP-bound credential for this upstream, and which one. */
  readonly dpop?: { readonly credential: string };
  /**
   * What the policy decided before the mode applied: differs from `action` in monitor mode (a
   * would-be deny or ask is recorded as log). Audit keeps it so "would have blocked" is queryable.
   */
  readonly policyAction?: DecisionAction;
};
