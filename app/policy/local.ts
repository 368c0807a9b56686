/**
 * The local-action decision for agent hooks (issue 5): may this agent run this shell command,
 * touch this file, call this MCP tool. Same layering as egress (layers.ts), first match within a
 * layer; rules are scanned in order (local policies are small; egress is the hot, indexed path).
 */
import type { Decision, DecisionReason, Principal } from '../api/enforcement.ts';
import type { LocalAction, PolicyAction, PolicyMode } from '../api/policy.ts';
import { locationOf, type CompiledLocalRule, type CompiledPolicy } from './compile.ts';
import { combineVerdicts, type Verdict } from './layers.ts';
import { keysOf } from './decide.ts';

export type LocalDecisionInput = Readonly<{
  action: LocalAction;
  principal: Principal;
  mode: PolicyMode;
}>;

const VERB: Readonly<Record<PolicyAction, string>> = { allow: 'allowed', log: 'allowed and logged', ask: 'held for approval', deny: 'denied' };

/** Decides one local action. Pure; never throws for any input the types allow. */
export function decideLocalAction(policy: CompiledPolicy, input: LocalDecisionInput): Decision {
  const mode: PolicyMode = input.mode === 'enforce' || policy.mode === 'enforce' ? 'enforce' : 'monitor';
  if (policy.failClosed) return finish(mode, 'deny', 'default', 'default', [{ code: 'policy-invalid', message: 'an IT policy (managed or fleet) is invalid, so Cordon cannot decide: failing closed' }]);
  const keys = keysOf(input.principal);
  const verdicts: Verdict<CompiledLocalRule>[] = [];
  for (const layer of policy.layers) {
    const rule = layer.local.find((r) => agentMatches(r, keys) && actionMatches(r, input.action));
    if (rule) verdicts.push({ layer: layer.name, action: rule.action, source: 'rule', rule, key: rule.id });
    else if (layer.defaults.local) verdicts.push({ layer: layer.name, action: layer.defaults.local, source: 'default', rule: null, key: 'defaults.local' });
  }
  const { winner } = combineVerdicts(verdicts);
  const what = describeAction(input.action);
  if (!winner) return finish(mode, 'ask', 'default', 'default', [{ code: 'default', message: `no rule or default covers ${what}: asking` }]);
  if (winner.source === 'rule' && winner.rule) {
    const r = winner.rule;
    return finish(mode, winner.action, r.ref, r.layer, [{ code: 'rule', message: `${what} ${VERB[winner.action]} by rule ${r.ref} (${locationOf(r)})${r.rule.description ? `: ${r.rule.description}` : ''}` }]);
  }
  return finish(mode, winner.action, 'default', 'default', [{ code: 'default', message: `no rule matches ${what}: the ${winner.layer} default for local actions is ${winner.action}` }]);
}

function agentMatches(rule: CompiledLocalRule, keys: readonly string[]): boolean {
  for (const k of keys) if (rule.agents.has(k)) return true;
  return false;
}

function actionMatches(rule: CompiledLocalRule, action: LocalAction): boolean {
  switch (action.kind) {
    case 'command':
      return rule.commands !== null && rule.commands.some((m) => m(action.command));
    case 'file':
      return rule.files !== null && (rule.operations === null || rule.operations.has(action.operation)) && rule.files.some((m) => m(action.path));
    case 'mcp':
      return rule.mcp !== null && rule.mcp.some((p) => p.server(action.server) && (p.tools === null || p.tools.some((t) => t(action.tool))));
    default:
      return false;
  }
}

function describeAction(action: LocalAction): string {
  switch (action.kind) {
    case 'command':
      return 'the command';
    case 'file':
      return `${action.operation} of ${action.path}`;
    case 'mcp':
      return `MCP tool ${action.server}/${action.tool}`;
    default:
      return 'the action';
  }
}

function finish(mode: PolicyMode, action: PolicyAction, rule: string, layer: Decision['layer'], reasons: DecisionReason[]): Decision {
  if (mode === 'monitor' && (action === 'deny' || action === 'ask')) {
    return { action: 'log', rule, layer, reasons: [...reasons, { code: 'monitor', message: `monitor mode: would have been ${VERB[action]}, logged instead` }], policyAction: action };
  }
  return { action, rule, layer, reasons, policyAction: action };
}
