/**
 * Compiles parsed policy sources (one or more per layer) into the indexed form decide() reads:
 * per layer, destination rules, signal rules and DPoP rules in RuleIndexes; one inspection index
 * across layers; defaults and flag maps resolved. Pure (no IO); compile once per policy change.
 */
import { homedir } from 'node:os';
import type {
  FlagCode,
  LocalRule,
  PolicyAction,
  PolicyDefaults,
  PolicyLayerName,
  PolicyMode,
  PolicyProblem,
  PolicyRule,
  PolicySourceInfo,
} from '../api/policy.ts';
import { portRange } from './checks.ts';
import { compileCommandPattern, compileFilePattern, compileNamePattern, compilePathPattern, type Matcher } from './glob.ts';
import { ACTION_RANK, LAYERS_BY_AUTHORITY, layeredDefault, strictest } from './layers.ts';
import { parseCidr, parseHostPattern, parseIp, type Cidr } from './net.ts';
import type { ParsedPolicy } from './parse.ts';
import { RuleIndex, type RuleTargets } from './ruleIndex.ts';

/** One policy source of a layer, as loaded. */
export type LayerSource =
  | { readonly layer: PolicyLayerName; readonly file: string; readonly status: 'loaded'; readonly policy: ParsedPolicy }
  | { readonly layer: PolicyLayerName; readonly file: string; readonly status: 'missing' }
  | { readonly layer: PolicyLayerName; readonly file: string; readonly status: 'invalid'; readonly problems: readonly PolicyProblem[] };

/** What every compiled rule carries, egress or local. */
type CompiledRuleBase = Readonly<{
  layer: PolicyLayerName;
  id: string;
  /** "layer:id": what decisions, audit and the 403 header name. */
  ref: string;
  file: string;
  line: number;
  /** Position in its layer: the first match (lowest order) wins within a layer. */
  order: number;
  action: PolicyAction;
}>;

export type CompiledRule = CompiledRuleBase & Readonly<{
  /** Flat inclusive ranges [lo, hi, lo, hi, ...], or null for any port. */
  ports: readonly number[] | null;
  methods: ReadonlySet<string> | null;
  paths: readonly Matcher[] | null;
  /** Null for a destination rule; the signal codes a signal rule judges. */
  signals: readonly string[] | null;
  inspect: boolean;
  dpop: { readonly credential: string } | null;
  rule: PolicyRule;
}>;

export type CompiledLocalRule = CompiledRuleBase & Readonly<{
  agents: ReadonlySet<string>;
  commands: readonly Matcher[] | null;
  files: readonly Matcher[] | null;
  operations: ReadonlySet<string> | null;
  mcp: readonly { server: Matcher; tools: readonly Matcher[] | null }[] | null;
  rule: LocalRule;
}>;

export type CompiledLayer = Readonly<{
  name: PolicyLayerName;
  destinations: RuleIndex<CompiledRule>;
  signals: RuleIndex<CompiledRule>;
  dpop: RuleIndex<CompiledRule>;
  defaults: Readonly<Partial<Record<keyof PolicyDefaults, PolicyAction>>>;
  flags: ReadonlyMap<string, PolicyAction>;
  local: readonly CompiledLocalRule[];
  rules: readonly CompiledRule[];
}>;

export type CompiledPolicy = Readonly<{
  /** Present layers, highest authority first (fleet, managed, user, builtin). */
  layers: readonly CompiledLayer[];
  /** Rules with inspect: true or dpop, from every layer: any match selects TLS inspection. */
  inspect: RuleIndex<CompiledRule>;
  /** enforce when any layer says so; a policy cannot loosen the settings mode. */
  mode: PolicyMode | null;
  /** An IT (managed or fleet) source is invalid: enforce mode denies everything rather than guess. */
  failClosed: boolean;
  unattributed: { readonly action: PolicyAction; readonly layer: PolicyLayerName };
  sources: readonly PolicySourceInfo[];
  /** Problems of invalid sources and cross-source conflicts. */
  problems: readonly PolicyProblem[];
  home: string;
}>;

export type CompileOptions = Readonly<{
  /** The home directory "~/" in file patterns means (default: this process's). */
  home?: string;
}>;

/** Compiles sources (any order; several per layer are read in the given order). */
export function compilePolicy(sources: readonly LayerSource[], options: CompileOptions = {}): CompiledPolicy {
  const home = options.home ?? homedir();
  const inspect = new RuleIndex<CompiledRule>();
  const layers: CompiledLayer[] = [];
  const problems: PolicyProblem[] = [];
  const infos: PolicySourceInfo[] = [];
  const modes: PolicyMode[] = [];
  const unattributed: { layer: PolicyLayerName; action: PolicyAction }[] = [];
  let failClosed = false;

  for (const name of LAYERS_BY_AUTHORITY) {
    const mine = sources.filter((s) => s.layer === name);
    if (mine.length === 0) continue;
    const layer = {
      name,
      destinations: new RuleIndex<CompiledRule>(),
      signals: new RuleIndex<CompiledRule>(),
      dpop: new RuleIndex<CompiledRule>(),
      defaults: {} as Partial<Record<keyof PolicyDefaults, PolicyAction>>,
      flags: new Map<string, PolicyAction>(),
      local: [] as CompiledLocalRule[],
      rules: [] as CompiledRule[],
    };
    const ids = new Map<string, string>();
    let order = 0;
    for (const source of mine) {
      if (source.status !== 'loaded') {
        const invalidIt = source.status === 'invalid' && name !== 'user' && name !== 'builtin';
        failClosed ||= invalidIt;
        if (source.status === 'invalid') problems.push(...source.problems);
        infos.push({ layer: name, file: source.file, status: invalidIt ? 'fail-closed' : source.status, rules: 0, localRules: 0 });
        continue;
      }
      const { document: doc, file } = source.policy;
      infos.push({ layer: name, file, status: 'loaded', rules: doc.rules?.length ?? 0, localRules: doc.local?.length ?? 0 });
      if (doc.mode) modes.push(doc.mode);
      for (const key of ['egress', 'unattributed', 'local'] as const) {
        const value = doc.defaults?.[key];
        if (value) layer.defaults[key] = strictest([value, ...(layer.defaults[key] ? [layer.defaults[key]] : [])]);
      }
      for (const [code, action] of Object.entries(doc.flags ?? {})) {
        const prev = layer.flags.get(code);
        layer.flags.set(code, prev ? strictest([prev, action]) : action);
      }
      const noteId = (id: string, line: number): void => {
        const first = ids.get(id);
        if (first) problems.push({ file, line, column: 0, ruleId: id, path: '', severity: 'warning', message: `rule id "${id}" is also used in ${first}: "${name}:${id}" is ambiguous in audit` });
        else ids.set(id, file);
      };
      (doc.rules ?? []).forEach((rule, i) => {
        const line = source.policy.ruleLines[i] ?? 0;
        noteId(rule.id, line);
        const compiled = compileRule(rule, name, file, line, order++);
        const targets = targetsOf(rule);
        layer.rules.push(compiled);
        if (compiled.signals) layer.signals.add(compiled, targets);
        else layer.destinations.add(compiled, targets);
        if (compiled.dpop) layer.dpop.add(compiled, targets);
        if (compiled.inspect || compiled.dpop) inspect.add(compiled, targets);
      });
      (doc.local ?? []).forEach((rule, i) => {
        const line = source.policy.localLines[i] ?? 0;
        noteId(rule.id, line);
        layer.local.push(compileLocalRule(rule, name, file, line, order++, home));
      });
    }
    if (layer.defaults.unattributed) unattributed.push({ layer: name, action: layer.defaults.unattributed });
    layers.push(layer);
  }

  return {
    layers,
    inspect,
    mode: modes.includes('enforce') ? 'enforce' : modes.length > 0 ? 'monitor' : null,
    failClosed,
    unattributed: layeredDefault(unattributed) ?? { layer: 'builtin', action: 'deny' },
    sources: infos,
    problems,
    home,
  };
}

/** "file:line", or just the file for sources without text (an inline lockedPolicy). */
export function locationOf(rule: Readonly<{ file: string; line: number }>): string {
  return rule.line > 0 ? `${rule.file}:${rule.line}` : rule.file;
}

/** A rule's actions ranked (for sorting summaries). */
export function actionRank(action: PolicyAction): number {
  return ACTION_RANK[action];
}

function ruleBase(rule: Readonly<{ id: string; action: PolicyAction }>, layer: PolicyLayerName, file: string, line: number, order: number): CompiledRuleBase {
  return { layer, id: rule.id, ref: `${layer}:${rule.id}`, file, line, order, action: rule.action };
}

function compileRule(rule: PolicyRule, layer: PolicyLayerName, file: string, line: number, order: number): CompiledRule {
  const signals: string[] = [...(rule.flags ?? [])];
  if (rule.data?.secrets === true && !signals.includes('secrets')) signals.push('secrets' satisfies FlagCode);
  const signalRule = rule.flags !== undefined || rule.data !== undefined;
  return {
    ...ruleBase(rule, layer, file, line, order),
    ports: rule.ports ? rule.ports.flatMap((p) => [...portRange(p)]) : null,
    methods: rule.methods ? new Set(rule.methods.map((m) => m.toUpperCase())) : null,
    paths: rule.paths ? rule.paths.map(compilePathPattern) : null,
    signals: signalRule ? signals : null,
    inspect: rule.inspect === true,
    dpop: rule.dpop ? { credential: rule.dpop.credential } : null,
    rule,
  };
}

function targetsOf(rule: PolicyRule): RuleTargets {
  const exact: string[] = [];
  const suffixes: string[] = [];
  const networks: Cidr[] = [];
  let anyDestination = !rule.hosts && !rule.ips && !rule.cidrs;
  for (const h of rule.hosts ?? []) {
    const p = parseHostPattern(h);
    if (typeof p === 'string') continue; // parse rejected the file; unreachable for a loaded source
    if (p.kind === 'any') anyDestination = true;
    else if (p.kind === 'exact') exact.push(p.name);
    else suffixes.push(p.name);
  }
  for (const ip of rule.ips ?? []) {
    const bytes = parseIp(ip);
    if (bytes) networks.push({ bytes, prefix: bytes.length * 8 });
  }
  for (const c of rule.cidrs ?? []) {
    const net = parseCidr(c);
    if (typeof net !== 'string') networks.push(net);
  }
  return { agents: rule.agents ?? ['*'], exact, suffixes, networks, anyDestination };
}

function compileLocalRule(rule: LocalRule, layer: PolicyLayerName, file: string, line: number, order: number, home: string): CompiledLocalRule {
  return {
    ...ruleBase(rule, layer, file, line, order),
    agents: new Set(rule.agents ?? ['*']),
    commands: rule.commands ? rule.commands.map(compileCommandPattern) : null,
    files: rule.files ? rule.files.map((f) => compileFilePattern(f, home)) : null,
    operations: rule.operations ? new Set(rule.operations) : null,
    mcp: rule.mcp ? rule.mcp.map((m) => ({ server: compileNamePattern(m.server), tools: m.tools ? m.tools.map(compileNamePattern) : null })) : null,
    rule,
  };
}
