/**
 * The egress decision: a pure function of the compiled policy and what the proxy knows about one
 * request or tunnel. No IO, no clock. Layering semantics are in layers.ts; within a layer the
 * first matching rule in file order wins.
 */
import type { Decision, DecisionAction, DecisionReason, EgressRequest, Principal } from '../api/enforcement.ts';
import type { PolicyAction, PolicyMode } from '../api/policy.ts';
import { SECRET_FLAG_CODES } from '../api/policy.ts';
import { locationOf, type CompiledLayer, type CompiledPolicy, type CompiledRule } from './compile.ts';
import { normalizeHttpPath } from './glob.ts';
import { ACTION_RANK, combineVerdicts, type Combined, type Verdict } from './layers.ts';
import { normalizeRequestHost, type NormalizedHost } from './net.ts';

export type DecisionInput = Readonly<{
  request: EgressRequest;
  principal: Principal;
  /** Raised anomaly flags: codes, or reasons carrying the detector's own explanation. */
  flags?: readonly (string | DecisionReason)[];
  /** A secret was detected in the request (URL, headers or body): raises the `secrets` signal. */
  secrets?: boolean;
  /** The settings mode; a policy can raise it to enforce, never lower it. */
  mode: PolicyMode;
  /** The anomaly baseline is still learning: anomaly flags (not secrets) contribute at most log. */
  learning?: boolean;
}>;

/** One judged dimension, kept when explaining. */
export type DimensionTrace = Readonly<{
  dimension: string;
  verdicts: readonly Verdict<CompiledRule>[];
  combined: Combined<CompiledRule>;
  capped?: boolean;
}>;

export type DecisionTrace = { dimensions: DimensionTrace[] };

const VERB: Readonly<Record<PolicyAction, string>> = { allow: 'allowed', log: 'allowed and logged', ask: 'held for approval', deny: 'denied' };
const SECRET_SET: ReadonlySet<string> = new Set(SECRET_FLAG_CODES);
const STAR: readonly string[] = ['*'];

/** Decides one egress request. Never throws for any input shape the types allow. */
export function decide(policy: CompiledPolicy, input: DecisionInput): Decision {
  return decideTraced(policy, input, null);
}

/** decide(), recording every layer's verdict per dimension into `trace` (for explanations). */
export function decideTraced(policy: CompiledPolicy, input: DecisionInput, trace: DecisionTrace | null): Decision {
  const mode: PolicyMode = input.mode === 'enforce' || policy.mode === 'enforce' ? 'enforce' : 'monitor';
  const { request, principal } = input;
  if (policy.failClosed) {
    return applyMode(mode, 'deny', 'default', 'default', [{ code: 'policy-invalid', message: 'an IT policy (managed or fleet) is invalid, so Cordon cannot decide: failing closed' }], {});
  }
  const host = normalizeRequestHost(request.host);
  if (!host) return applyMode(mode, 'deny', 'default', 'default', [{ code: 'bad-destination', message: 'the destination host is not a valid host name or address' }], {});
  const names: NormalizedHost[] = [host];
  if (request.sni !== undefined && request.sni !== '') {
    const sni = normalizeRequestHost(request.sni);
    if (!sni) return applyMode(mode, 'deny', 'default', 'default', [{ code: 'bad-destination', message: 'the TLS server name (SNI) is not a valid host name' }], {});
    if (label(sni) !== label(host)) names.push(sni);
  }
  const agentKeys = keysOf(principal);
  const visible = request.kind !== 'connect';
  const method = visible && request.method ? request.method.toUpperCase() : undefined;
  let path: string | undefined;
  let pathDone = false;
  const port = request.port;
  const accept = (rule: CompiledRule): boolean => {
    if (rule.ports && !portMatches(rule.ports, port)) return false;
    if (rule.methods && (method === undefined || !rule.methods.has(method))) return false;
    if (rule.paths) {
      if (!pathDone) {
        path = visible && request.path !== undefined ? normalizeHttpPath(request.path) : undefined;
        pathDone = true;
      }
      if (path === undefined) return false;
      const p = path;
      if (!rule.paths.some((m) => m(p))) return false;
    }
    return true;
  };

  // The destination, judged for every name it shows (CONNECT target and SNI): the strictest counts.
  let destination: Verdict<CompiledRule> | null = null;
  let destinationName = host;
  for (const name of names) {
    const verdicts: Verdict<CompiledRule>[] = [];
    for (const layer of policy.layers) {
      const rule = layer.destinations.size > 0 ? layer.destinations.first(agentKeys, name, accept) : null;
      if (rule) verdicts.push({ layer: layer.name, action: rule.action, source: 'rule', rule, key: rule.id });
      else if (layer.defaults.egress) verdicts.push({ layer: layer.name, action: layer.defaults.egress, source: 'default', rule: null, key: 'defaults.egress' });
    }
    const combined = combineVerdicts(verdicts);
    trace?.dimensions.push({ dimension: names.length > 1 ? `destination ${label(name)}` : 'destination', verdicts, combined });
    if (combined.winner && (!destination || ACTION_RANK[combined.winner.action] > ACTION_RANK[destination.action])) {
      destination = combined.winner;
      destinationName = name;
    }
  }

  const reasons: DecisionReason[] = [];
  let action: PolicyAction = destination?.action ?? 'ask';
  let deciding: Verdict<CompiledRule> | null = destination;
  const target = `${label(destinationName)}:${port}`;
  const destinationReason: DecisionReason = destination ? verdictReason(destination, target) : { code: 'default', message: `no rule or default covers ${target}: asking` };

  // Each raised signal, judged by the rules naming it (and the flags maps).
  const signals = raisedSignals(input);
  const signalReasons: DecisionReason[] = [];
  for (const [code, detail] of signals) {
    const verdicts: Verdict<CompiledRule>[] = [];
    for (const layer of policy.layers) {
      const rule = layer.signals.size > 0 ? layer.signals.first(agentKeys, host, (r) => r.signals !== null && r.signals.includes(code) && accept(r)) : null;
      if (rule) {
        verdicts.push({ layer: layer.name, action: rule.action, source: 'rule', rule, key: rule.id });
      } else {
        const mapped = layer.flags.get(code);
        if (mapped) verdicts.push({ layer: layer.name, action: mapped, source: 'default', rule: null, key: `flags.${code}` });
      }
    }
    const combined = combineVerdicts(verdicts);
    let winner = combined.winner;
    const capped = input.learning === true && !SECRET_SET.has(code) && winner !== null && ACTION_RANK[winner.action] > ACTION_RANK.log;
    if (capped && winner) winner = { ...winner, action: 'log' };
    trace?.dimensions.push({ dimension: `signal ${code}`, verdicts, combined, ...(capped ? { capped } : {}) });
    const base = detail ?? `signal ${code} raised`;
    if (!winner) {
      signalReasons.push({ code, message: `${base} (no rule judges it)` });
      continue;
    }
    const why = winner.source === 'rule' && winner.rule ? `rule ${winner.rule.ref}` : `${winner.layer} flags map`;
    const reason = { code, message: `${base}: ${VERB[winner.action]} by ${why}${capped ? ' (learning period: at most log)' : ''}` };
    if (ACTION_RANK[winner.action] > ACTION_RANK[action]) {
      action = winner.action;
      deciding = winner;
      signalReasons.unshift(reason);
    } else {
      signalReasons.push(reason);
    }
  }

  if (deciding === destination) reasons.push(destinationReason, ...signalReasons);
  else reasons.push(...signalReasons, destinationReason);

  if (!principal.attributed) {
    const floor = policy.unattributed;
    const message = `the connection is not tied to a local process${principal.reason ? ` (${principal.reason})` : ''}: unattributed connections are at least ${floor.action} (${floor.layer} default)`;
    if (ACTION_RANK[floor.action] > ACTION_RANK[action]) {
      action = floor.action;
      deciding = null;
      reasons.unshift({ code: 'unattributed', message });
    } else {
      reasons.push({ code: 'unattributed', message });
    }
    if (mode === 'enforce' && action === 'allow') {
      action = 'log';
      reasons.push({ code: 'unattributed', message: 'enforce mode never allows an unattributed connection silently: logged' });
    }
  }

  const extras: { inspect?: boolean; dpop?: { credential: string } } = {};
  if (policy.inspect.size > 0 && names.some((n) => policy.inspect.first(agentKeys, n, portOnly(port)) !== null)) extras.inspect = true;
  const dpop = findDpop(policy.layers, agentKeys, host, accept);
  if (dpop) extras.dpop = { credential: dpop };

  const ref = deciding === null ? 'default' : deciding.source === 'rule' && deciding.rule ? deciding.rule.ref : deciding.key.startsWith('flags.') ? `${deciding.layer}:flags/${deciding.key.slice(6)}` : 'default';
  const layer: Decision['layer'] = ref === 'default' ? 'default' : (deciding?.layer ?? 'default');
  return applyMode(mode, action, ref, layer, reasons, extras);
}

/** Agent keys a principal matches rules by: its inventory id, its kind, and "*". */
export function keysOf(principal: Principal): readonly string[] {
  const agent = principal.attributed ? principal.agent : null;
  if (!agent) return STAR;
  return agent.id === agent.kind ? [agent.id, '*'] : [agent.id, agent.kind, '*'];
}

function applyMode(
  mode: PolicyMode,
  action: PolicyAction,
  rule: string,
  layer: Decision['layer'],
  reasons: DecisionReason[],
  extras: { inspect?: boolean; dpop?: { credential: string } },
): Decision {
  if (mode === 'monitor' && (action === 'deny' || action === 'ask')) {
    return { action: 'log', rule, layer, reasons: [...reasons, { code: 'monitor', message: `monitor mode: would have been ${VERB[action]}, logged instead` }], ...extras, policyAction: action };
  }
  return { action: action satisfies DecisionAction, rule, layer, reasons, ...extras, policyAction: action };
}

function verdictReason(v: Verdict<CompiledRule>, target: string): DecisionReason {
  if (v.source === 'rule' && v.rule) {
    const r = v.rule;
    return { code: 'rule', message: `${target} ${VERB[r.action]} by rule ${r.ref} (${locationOf(r)})${r.rule.description ? `: ${r.rule.description}` : ''}` };
  }
  return { code: 'default', message: `no rule matches ${target}: the ${v.layer} default for egress is ${v.action}` };
}

function raisedSignals(input: DecisionInput): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const f of input.flags ?? []) {
    const code = typeof f === 'string' ? f : f.code;
    if (!out.has(code) || out.get(code) === undefined) out.set(code, typeof f === 'string' ? undefined : f.message);
  }
  if (input.secrets === true && !out.has('secrets')) out.set('secrets', 'a secret was detected in the request');
  return out;
}

function findDpop(layers: readonly CompiledLayer[], agentKeys: readonly string[], host: NormalizedHost, accept: (r: CompiledRule) => boolean): string | null {
  for (const layer of layers) {
    if (layer.dpop.size === 0) continue;
    const rule = layer.dpop.first(agentKeys, host, accept);
    if (rule?.dpop) return rule.dpop.credential;
  }
  return null;
}

function portOnly(port: number): (rule: CompiledRule) => boolean {
  return (rule) => !rule.ports || portMatches(rule.ports, port);
}

function portMatches(ranges: readonly number[], port: number): boolean {
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    if (port >= (ranges[i] ?? 0) && port <= (ranges[i + 1] ?? -1)) return true;
  }
  return false;
}

function label(host: NormalizedHost): string {
  return host.kind === 'name' ? host.name : host.bytes.length === 16 ? `[${host.text}]` : host.text;
}
