/**
 * The policy contract: the shape of a policy file (YAML or JSON, `version: 1`), the problems a check
 * reports, and the explanation of a decision (`cordon policy explain`, the UI, the fleet console).
 * Types and constants only, importing nothing. The JSON Schema is app/policy/schema.ts.
 */

/** The four tiers, weakest first: allow < log < ask < deny. */
export type PolicyAction = 'allow' | 'log' | 'ask' | 'deny';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['allow', 'log', 'ask', 'deny'];

/** monitor: decide and record, never block or ask. enforce: apply decisions; fail closed. */
export type PolicyMode = 'monitor' | 'enforce';

/** Where a rule comes from, lowest precedence first (see app/policy/layers.ts for the exact semantics). */
export type PolicyLayerName = 'builtin' | 'user' | 'managed' | 'fleet';
export const POLICY_LAYERS: readonly PolicyLayerName[] = ['builtin', 'user', 'managed', 'fleet'];

/**
 * Signal codes a rule may name in `flags:` and the `flags:` map may key on. The anomaly detector
 * raises the flag codes; `secrets` is raised when a secret was detected in the request (URL,
 * headers or body) and is also what `data: {secrets: true}` names.
 */
export const FLAG_CODES = [
  'first-seen-destination',
  'ip-literal',
  'punycode-host',
  'high-entropy-host',
  'paste-service',
  'webhook-service',
  'tunnel-service',
  'file-drop-service',
  'image-proxy-abuse',
  'upload-spike',
  'rate-spike',
  'secret-in-url',
  'secret-in-header',
  'secret-in-body',
  'secrets',
] as const;
export type FlagCode = (typeof FLAG_CODES)[number];

/** Signals that are about secrets: a learning period never softens them. */
export const SECRET_FLAG_CODES: readonly FlagCode[] = ['secrets', 'secret-in-url', 'secret-in-header', 'secret-in-body'];

/** What applies when no rule matches. */
export type PolicyDefaults = {
  /** Egress no rule decides (builtin: log). */
  readonly egress?: PolicyAction;
  /** Connections not tied to a local process: never looser than this (builtin: deny). */
  readonly unattributed?: PolicyAction;
  /** Local actions (commands, files, MCP tools) no rule decides (builtin: log). */
  readonly local?: PolicyAction;
};

/**
 * One egress rule. Criteria present must all match (destination = any of hosts/ips/cidrs); an
 * omitted criterion matches anything. `methods` and `paths` match only requests Cordon can see
 * (plain HTTP, or HTTPS to an inspected host); such a rule never matches an opaque tunnel.
 */
export type PolicyRule = {
  /** Unique across the file (rules and local rules). */
  readonly id: string;
  readonly description?: string;
  /** Agent kinds ("claude-code") or inventory ids ("agent_0123..."), or "*" (default) for every principal. */
  readonly agents?: readonly string[];
  readonly action: PolicyAction;
  /** "api.example.com", "*.example.com" (any subdomain, not the apex) or "**" (any destination). */
  readonly hosts?: readonly string[];
  /** IPv4 or IPv6 addresses; they match only when the request names the IP (no DNS lookups). */
  readonly ips?: readonly string[];
  readonly cidrs?: readonly string[];
  /** 443 or "8000-8999". */
  readonly ports?: readonly (number | string)[];
  readonly methods?: readonly string[];
  /** "/api/" (segment prefix) or a glob: "*" within a segment, "**" across segments. */
  readonly paths?: readonly string[];
  /** `secrets: true`: this rule judges the `secrets` signal (a detected secret in the request). */
  readonly data?: { readonly secrets?: true };
  /** This rule judges these signals when they are raised, instead of the destination. */
  readonly flags?: readonly FlagCode[];
  /** Terminate TLS for matching destinations so methods, paths and data become visible. */
  readonly inspect?: boolean;
  /** Attach the named DPoP-bound credential (held by Cordon) to requests to matching destinations. */
  readonly dpop?: { readonly credential: string };
};

export type FileOperation = 'read' | 'write' | 'delete' | 'execute';

/** An MCP tool pattern: server name and tool names, globs with "*". */
export type McpPattern = { readonly server: string; readonly tools?: readonly string[] };

/**
 * One local-action rule (agent hooks, issue 5): over shell commands, file paths, or MCP tools.
 * Globs: "*" matches anything in commands and MCP names; in files "*" stays in one path segment,
 * "**" crosses them, and a leading "~/" is the user's home.
 */
export type LocalRule = {
  readonly id: string;
  readonly description?: string;
  readonly agents?: readonly string[];
  readonly action: PolicyAction;
  readonly commands?: readonly string[];
  readonly files?: readonly string[];
  /** Limits `files` to these operations (default: all). */
  readonly operations?: readonly FileOperation[];
  readonly mcp?: readonly McpPattern[];
};

/** A policy file. */
export type PolicyDocument = {
  readonly version: 1;
  readonly description?: string;
  /** Can only make Cordon stricter: the effective mode is enforce if settings or any layer say so. */
  readonly mode?: PolicyMode;
  readonly defaults?: PolicyDefaults;
  /** Signal -> action for raised signals no rule judges (e.g. `paste-service: ask`). */
  readonly flags?: Readonly<Partial<Record<FlagCode, PolicyAction>>>;
  readonly rules?: readonly PolicyRule[];
  readonly local?: readonly LocalRule[];
};

/** A local action an agent hook asks about. */
export type LocalAction =
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'file'; readonly path: string; readonly operation: FileOperation }
  | { readonly kind: 'mcp'; readonly server: string; readonly tool: string };

/** One problem in a policy source. Lines and columns are 1-based; 0 when the source has no text. */
export type PolicyProblem = {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The id of the rule the problem is in, when it is inside a rule. */
  readonly ruleId?: string;
  /** Dotted location: "rules[3].cidrs[0]". */
  readonly path: string;
  readonly severity: 'error' | 'warning';
  /** Never contains a secret value. */
  readonly message: string;
};

/** Where a rule is written. */
export type RuleOrigin = {
  readonly layer: PolicyLayerName;
  readonly file: string;
  readonly line: number;
};

/** A rule of the effective policy, with where it came from (`cordon policy show --json`). */
export type EffectiveRule = RuleOrigin & {
  readonly kind: 'egress' | 'local';
  readonly rule: PolicyRule | LocalRule;
};

/** One layer's source as loaded: the UI and `cordon policy show` list them. */
export type PolicySourceInfo = {
  readonly layer: PolicyLayerName;
  readonly file: string;
  /** loaded: in effect; missing: not present; invalid: not applied (see problems); failClosed: invalid IT policy, so everything is denied in enforce mode. */
  readonly status: 'loaded' | 'missing' | 'invalid' | 'fail-closed';
  readonly rules: number;
  readonly localRules: number;
};

export type EffectivePolicyView = {
  readonly mode: PolicyMode | null;
  readonly defaults: Required<PolicyDefaults> & { readonly origin: Readonly<Record<keyof PolicyDefaults, PolicyLayerName>> };
  readonly flags: Readonly<Partial<Record<FlagCode, { readonly action: PolicyAction; readonly layer: PolicyLayerName }>>>;
  readonly sources: readonly PolicySourceInfo[];
  readonly rules: readonly EffectiveRule[];
  readonly failClosed: boolean;
};

/** What one layer said about one dimension of a request (the destination, or one raised signal). */
export type LayerVerdict = {
  readonly layer: PolicyLayerName;
  /** The layer's verdict, or null when it has no matching rule and no default for the dimension. */
  readonly action: PolicyAction | null;
  /** rule: the layer's first matching rule; default: its default or flags-map entry. */
  readonly source: 'rule' | 'default' | null;
  /** The matching rule, when source is rule. */
  readonly rule: (RuleOrigin & { readonly id: string }) | null;
  /** "defaults.egress", "flags.paste-service", or the rule id. */
  readonly key: string | null;
  /** True for the verdict that decided the dimension. */
  readonly used: boolean;
  /** Why it did or did not decide: "stricter than ...", "not consulted: ...". */
  readonly note: string;
};

/** The explanation of one dimension: "destination" or a signal code. */
export type DimensionExplanation = {
  readonly dimension: string;
  readonly action: PolicyAction;
  /** "layer:rule-id", or "default" / "flags.<code>" when a default or the flags map decided. */
  readonly decidedBy: string;
  readonly layers: readonly LayerVerdict[];
};

/** `cordon policy explain --json`. Structurally compatible with Decision in enforcement.ts. */
export type PolicyExplanation = {
  readonly decision: {
    readonly action: PolicyAction;
    readonly rule: string;
    readonly layer: PolicyLayerName | 'default';
    readonly reasons: readonly { readonly code: string; readonly message: string }[];
    readonly inspect?: boolean;
    readonly dpop?: { readonly credential: string };
    readonly policyAction?: PolicyAction;
  };
  readonly origin: RuleOrigin | null;
  readonly dimensions: readonly DimensionExplanation[];
};
