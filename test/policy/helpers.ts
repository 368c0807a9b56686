// Shared helpers for policy tests: build compiled policies from YAML per layer, and principals.
import type { EgressRequest, Principal } from '../../app/api/enforcement.ts';
import type { PolicyLayerName } from '../../app/api/policy.ts';
import { builtinSource } from '../../app/policy/builtin.ts';
import { compilePolicy, type CompiledPolicy, type LayerSource } from '../../app/policy/compile.ts';
import { decide, type DecisionInput } from '../../app/policy/decide.ts';
import { parsePolicyText } from '../../app/policy/parse.ts';

/** A parsed, loaded source; throws (failing the test) when the YAML is invalid. */
export function source(layer: PolicyLayerName, yaml: string, file = `${layer}.yaml`): LayerSource {
  const r = parsePolicyText(yaml, file);
  if (!r.ok) throw new Error(`${file} is invalid: ${r.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('; ')}`);
  return { layer, file, status: 'loaded', policy: r.policy };
}

/** Compiles the given layers (YAML text); builtin only when passed as `builtin: true`. */
export function policyOf(layers: Partial<Record<Exclude<PolicyLayerName, 'builtin'>, string>> & { builtin?: string | true }, home = '/home/dev'): CompiledPolicy {
  const sources: LayerSource[] = [];
  if (layers.builtin === true) sources.push(builtinSource());
  else if (typeof layers.builtin === 'string') sources.push(source('builtin', layers.builtin));
  for (const layer of ['user', 'managed', 'fleet'] as const) {
    const text = layers[layer];
    if (text !== undefined) sources.push(source(layer, text));
  }
  return compilePolicy(sources, { home });
}

export function agent(kind: string, id = `agent_${kind}`): Principal {
  return { attributed: true, chain: [], agent: { id, kind, name: kind, pid: 100, exe: `/usr/bin/${kind}` } };
}

export const NO_AGENT: Principal = { attributed: true, chain: [], agent: null };
export const UNATTRIBUTED: Principal = { attributed: false, reason: 'no socket owner', chain: [], agent: null };

export function connect(host: string, port = 443): EgressRequest {
  return { kind: 'connect', host, port };
}

export function http(host: string, method: string, path: string, port = 80): EgressRequest {
  return { kind: 'http', host, port, method, path };
}

export function https(host: string, method: string, path: string, port = 443): EgressRequest {
  return { kind: 'https', host, port, method, path };
}

/** decide() in enforce mode with a claude-code principal unless overridden. */
export function run(policy: CompiledPolicy, request: EgressRequest, extra: Partial<DecisionInput> = {}): ReturnType<typeof decide> {
  return decide(policy, { request, principal: agent('claude-code'), mode: 'enforce', ...extra });
}
