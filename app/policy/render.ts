/**
 * Plain-text renderings for `cordon policy check|explain|show`: problems as file:line:column,
 * a check summary, a layer-by-layer explanation and the effective policy. Pure string building.
 */
import type { EffectivePolicyView, LocalRule, PolicyDocument, PolicyExplanation, PolicyProblem, PolicyRule } from '../api/policy.ts';
import { POLICY_ACTIONS } from '../api/policy.ts';

/** "file:12:5: error: rule "x": rules[3].cidrs[0]: message". */
export function formatProblem(p: PolicyProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const rule = p.ruleId !== undefined ? `rule "${p.ruleId}": ` : '';
  const path = p.path !== '' ? `${p.path}: ` : '';
  return `${where}: ${p.severity}: ${rule}${path}${p.message}`;
}

export type PolicySummary = {
  readonly rules: number;
  readonly localRules: number;
  readonly byAction: Readonly<Record<string, number>>;
  readonly agents: readonly string[];
  readonly inspected: number;
  readonly dpop: number;
};

/** Counts for `cordon policy check`: rules per action, agents covered. */
export function summarize(doc: PolicyDocument): PolicySummary {
  const byAction: Record<string, number> = Object.fromEntries(POLICY_ACTIONS.map((a) => [a, 0]));
  const all: (PolicyRule | LocalRule)[] = [...(doc.rules ?? []), ...(doc.local ?? [])];
  for (const r of all) byAction[r.action] = (byAction[r.action] ?? 0) + 1;
  const agents = [...new Set(all.flatMap((r) => r.agents ?? ['*']))].sort();
  return {
    rules: doc.rules?.length ?? 0,
    localRules: doc.local?.length ?? 0,
    byAction,
    agents,
    inspected: (doc.rules ?? []).filter((r) => r.inspect === true).length,
    dpop: (doc.rules ?? []).filter((r) => r.dpop !== undefined).length,
  };
}

export function formatSummary(file: string, s: PolicySummary): string {
  const actions = POLICY_ACTIONS.map((a) => `${a} ${s.byAction[a] ?? 0}`).join(', ');
  const lines = [
    `${file}: valid`,
    `  ${s.rules} egress rule${s.rules === 1 ? '' : 's'}, ${s.localRules} local rule${s.localRules === 1 ? '' : 's'} (${actions})`,
    `  agents covered: ${s.agents.length > 0 ? s.agents.join(', ') : 'none'}`,
  ];
  if (s.inspected > 0 || s.dpop > 0) lines.push(`  TLS inspection rules: ${s.inspected}, DPoP rules: ${s.dpop}`);
  return `${lines.join('\n')}\n`;
}

/** One explained stage ("CONNECT api.example.com:443", "GET https://..."). */
export function formatExplanation(title: string, e: PolicyExplanation): string {
  const d = e.decision;
  const out: string[] = [`${title}: ${d.action.toUpperCase()}${d.policyAction && d.policyAction !== d.action ? ` (policy says ${d.policyAction})` : ''}`];
  out.push(`  decided by: ${d.rule}${e.origin ? ` (${at(e.origin)})` : ''}, layer ${d.layer}`);
  if (d.inspect) out.push('  TLS inspection: yes (methods, paths and data are visible)');
  if (d.dpop) out.push(`  DPoP credential: ${d.dpop.credential}`);
  out.push('  reasons:');
  for (const r of d.reasons) out.push(`    - [${r.code}] ${r.message}`);
  for (const dim of e.dimensions) {
    out.push(`  ${dim.dimension}: ${dim.action} (decided by ${dim.decidedBy})`);
    for (const v of dim.layers) {
      const what = v.action === null ? '-' : v.rule ? `${v.action} by rule ${v.rule.id} (${at(v.rule)})` : `${v.action} by ${v.key ?? 'default'}`;
      out.push(`    ${v.layer.padEnd(8)} ${what}: ${v.note}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** `cordon policy show`. */
export function formatPolicyView(view: EffectivePolicyView): string {
  const out: string[] = [];
  out.push(`mode (policy): ${view.mode ?? 'not set (the settings mode applies)'}${view.failClosed ? '   FAIL-CLOSED: an IT policy is invalid' : ''}`);
  out.push(`defaults: egress ${view.defaults.egress} (${view.defaults.origin.egress}), unattributed ${view.defaults.unattributed} (${view.defaults.origin.unattributed}), local ${view.defaults.local} (${view.defaults.origin.local})`);
  const flags = Object.entries(view.flags).map(([code, v]) => `${code} ${v?.action} (${v?.layer})`);
  if (flags.length > 0) out.push(`flags: ${flags.join(', ')}`);
  out.push('sources:');
  for (const s of view.sources) out.push(`  ${s.layer.padEnd(8)} ${s.status.padEnd(11)} ${s.file}${s.status === 'loaded' ? `  (${s.rules} rules, ${s.localRules} local)` : ''}`);
  out.push('rules (first match wins within a layer; across layers see `cordon policy explain`):');
  for (const r of view.rules) {
    out.push(`  ${r.layer.padEnd(8)} ${r.rule.action.padEnd(5)} ${r.rule.id}  [${(r.rule.agents ?? ['*']).join(',')}] ${criteria(r.kind, r.rule)}  ${at(r)}`);
  }
  return `${out.join('\n')}\n`;
}

function at(o: { file: string; line: number }): string {
  return o.line > 0 ? `${o.file}:${o.line}` : o.file;
}

function criteria(kind: 'egress' | 'local', rule: PolicyRule | LocalRule): string {
  const parts: string[] = [];
  const list = (name: string, v: readonly unknown[] | undefined): void => {
    if (v && v.length > 0) parts.push(`${name}=${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',')}`);
  };
  if (kind === 'egress') {
    const r = rule as PolicyRule;
    list('hosts', r.hosts);
    list('ips', r.ips);
    list('cidrs', r.cidrs);
    list('ports', r.ports);
    list('methods', r.methods);
    list('paths', r.paths);
    list('flags', r.flags);
    if (r.data?.secrets) parts.push('data=secrets');
    if (r.inspect) parts.push('inspect');
    if (r.dpop) parts.push(`dpop=${r.dpop.credential}`);
  } else {
    const r = rule as LocalRule;
    list('commands', r.commands);
    list('files', r.files);
    list('operations', r.operations);
    list('mcp', r.mcp);
  }
  return parts.length > 0 ? parts.join(' ') : 'any';
}
