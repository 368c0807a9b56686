/**
 * Explanations: which rule decided a request and why, layer by layer (`cordon policy explain`,
 * the UI's "why was this blocked"), and the effective layered policy (`cordon policy show`).
 * Built on decideTraced(), so an explanation can never disagree with the decision itself.
 */
import type {
  DimensionExplanation,
  EffectivePolicyView,
  EffectiveRule,
  FlagCode,
  LayerVerdict,
  PolicyAction,
  PolicyDefaults,
  PolicyExplanation,
  PolicyLayerName,
} from '../api/policy.ts';
import type { CompiledPolicy, CompiledRule } from './compile.ts';
import { decideTraced, type DecisionInput, type DecisionTrace, type DimensionTrace } from './decide.ts';
import { LAYERS_BY_AUTHORITY, layeredDefault } from './layers.ts';

/** Decides `input` and explains the decision. */
export function explainDecision(policy: CompiledPolicy, input: DecisionInput): PolicyExplanation {
  const trace: DecisionTrace = { dimensions: [] };
  const decision = decideTraced(policy, input, trace);
  const dimensions = trace.dimensions.map((d) => explainDimension(policy, d));
  const decidingRule = policy.layers.flatMap((l) => l.rules).find((r) => r.ref === decision.rule);
  return {
    decision: {
      action: decision.action,
      rule: decision.rule,
      layer: decision.layer,
      reasons: decision.reasons,
      ...(decision.inspect ? { inspect: true } : {}),
      ...(decision.dpop ? { dpop: decision.dpop } : {}),
      ...(decision.policyAction ? { policyAction: decision.policyAction } : {}),
    },
    origin: decidingRule ? { layer: decidingRule.layer, file: decidingRule.file, line: decidingRule.line } : null,
    dimensions,
  };
}

/** The effective layered policy: every rule with the layer and file:line it came from. */
export function effectivePolicyView(policy: CompiledPolicy): EffectivePolicyView {
  const rules: EffectiveRule[] = [];
  for (const layer of policy.layers) {
    for (const r of layer.rules) rules.push({ kind: 'egress', layer: r.layer, file: r.file, line: r.line, rule: r.rule });
    for (const r of layer.local) rules.push({ kind: 'local', layer: r.layer, file: r.file, line: r.line, rule: r.rule });
  }
  const defaultOf = (key: keyof PolicyDefaults): { action: PolicyAction; layer: PolicyLayerName } =>
    layeredDefault(policy.layers.flatMap((l) => (l.defaults[key] ? [{ layer: l.name, action: l.defaults[key] }] : []))) ?? { layer: 'builtin', action: key === 'egress' || key === 'local' ? 'ask' : 'deny' };
  const egress = defaultOf('egress');
  const unattributed = defaultOf('unattributed');
  const local = defaultOf('local');
  const codes = new Set(policy.layers.flatMap((l) => [...l.flags.keys()]));
  const flags: Partial<Record<FlagCode, { action: PolicyAction; layer: PolicyLayerName }>> = {};
  for (const code of codes) {
    const d = layeredDefault(policy.layers.flatMap((l) => {
      const action = l.flags.get(code);
      return action ? [{ layer: l.name, action }] : [];
    }));
    if (d) flags[code as FlagCode] = d;
  }
  return {
    mode: policy.mode,
    defaults: {
      egress: egress.action,
      unattributed: unattributed.action,
      local: local.action,
      origin: { egress: egress.layer, unattributed: unattributed.layer, local: local.layer },
    },
    flags,
    sources: policy.sources,
    rules,
    failClosed: policy.failClosed,
  };
}

function explainDimension(policy: CompiledPolicy, d: DimensionTrace): DimensionExplanation {
  const winner = d.combined.winner;
  const upperRule = d.combined.considered.some((v) => v.layer !== 'builtin' && v.source === 'rule');
  const layers: LayerVerdict[] = [];
  for (const name of LAYERS_BY_AUTHORITY) {
    if (!policy.layers.some((l) => l.name === name)) continue;
    const v = d.verdicts.find((x) => x.layer === name);
    if (!v) {
      layers.push({ layer: name, action: null, source: null, rule: null, key: null, used: false, note: 'no matching rule and no default' });
      continue;
    }
    const used = winner === v;
    const considered = d.combined.considered.includes(v);
    let note: string;
    if (used) note = d.capped ? 'decided (capped at log: learning period)' : 'decided: the strictest verdict with the most authority';
    else if (!considered) note = upperRule ? 'not consulted: a user, managed or fleet rule matched (builtin rules are a fallback)' : 'not consulted: builtin defaults yield to the other layers\' defaults';
    else note = winner ? `overridden: ${winner.layer} says ${winner.action}, and the strictest verdict wins` : 'overridden';
    layers.push({ layer: name, action: v.action, source: v.source, rule: v.rule ? origin(v.rule) : null, key: v.key, used, note });
  }
  const decidedBy = !winner ? 'none' : winner.source === 'rule' && winner.rule ? winner.rule.ref : `${winner.layer}:${winner.key}`;
  return { dimension: d.dimension, action: winner ? (d.capped ? 'log' : winner.action) : 'allow', decidedBy, layers };
}

function origin(rule: CompiledRule): { layer: PolicyLayerName; file: string; line: number; id: string } {
  return { layer: rule.layer, file: rule.file, line: rule.line, id: rule.id };
}
