// The indexed decide() must agree with a plain linear evaluation on random policies and requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EgressRequest, Principal } from '../../app/api/enforcement.ts';
import type { PolicyAction, PolicyLayerName, PolicyRule } from '../../app/api/policy.ts';
import { compilePolicy, type LayerSource } from '../../app/policy/compile.ts';
import { decide } from '../../app/policy/decide.ts';
import { compilePathPattern, normalizeHttpPath } from '../../app/policy/glob.ts';
import { combineVerdicts, type Verdict } from '../../app/policy/layers.ts';
import { bitAt, normalizeRequestHost, parseCidr, parseIp } from '../../app/policy/net.ts';
import { parsePolicyValue } from '../../app/policy/parse.ts';
import { agent } from './helpers.ts';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a.example', 'b.example', 'x.a.example', 'y.x.a.example', 'c.test', 'd.c.test', 'solo.org'];
const HOST_PATTERNS = [...NAMES, '*.example', '*.a.example', '*.c.test', '**'];
const IPS = ['10.1.2.3', '10.9.9.9', '192.168.0.7', '2001:db8::5', 'fd00::1', '8.8.8.8'];
const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '192.168.0.0/24', '0.0.0.0/0', 'fd00::/8', '2001:db8::/32', '::/0'];
const ACTIONS: readonly PolicyAction[] = ['allow', 'log', 'ask', 'deny'];
const AGENTS = ['*', 'claude-code', 'codex', 'agent_special'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function randomRule(rand: () => number, id: string): PolicyRule {
  const rule: Record<string, unknown> = { id, action: pick(rand, ACTIONS) };
  if (rand() < 0.5) rule.agents = [pick(rand, AGENTS)];
  const shape = rand();
  if (shape < 0.6) rule.hosts = [pick(rand, HOST_PATTERNS), ...(rand() < 0.3 ? [pick(rand, HOST_PATTERNS)] : [])];
  else if (shape < 0.75) rule.ips = [pick(rand, IPS)];
  else if (shape < 0.9) rule.cidrs = [pick(rand, CIDRS)];
  if (rand() < 0.3) rule.ports = rand() < 0.5 ? [443] : ['8000-8100'];
  if (rand() < 0.15) rule.methods = [pick(rand, ['GET', 'POST', 'DELETE'])];
  if (rand() < 0.15) rule.paths = [pick(rand, ['/api', '/admin/**', '/x/*/y'])];
  return rule as PolicyRule;
}

/** Linear reference: first rule in file order whose every criterion matches. */
function referenceMatch(rule: PolicyRule, request: EgressRequest, principal: Principal): boolean {
  const keys = principal.agent ? [principal.agent.id, principal.agent.kind, '*'] : ['*'];
  if (!(rule.agents ?? ['*']).some((a) => keys.includes(a))) return false;
  const host = normalizeRequestHost(request.host);
  if (!host) return false;
  const anyDest = !rule.hosts && !rule.ips && !rule.cidrs;
  let dest = anyDest || (rule.hosts ?? []).includes('**');
  if (!dest && host.kind === 'name') {
    dest = (rule.hosts ?? []).some((h) => (h.startsWith('*.') ? host.name.endsWith(h.slice(1)) : h === host.name));
  }
  if (!dest && host.kind === 'ip') {
    const nets = [...(rule.ips ?? []).map((ip) => ({ bytes: parseIp(ip), prefix: (parseIp(ip)?.length ?? 0) * 8 })), ...(rule.cidrs ?? []).map((c) => parseCidr(c) as { bytes: Uint8Array; prefix: number })];
    dest = nets.some((n) => n.bytes !== null && n.bytes.length === host.bytes.length && Array.from({ length: n.prefix }, (_, i) => i).every((i) => bitAt(n.bytes as Uint8Array, i) === bitAt(host.bytes, i)));
  }
  if (!dest) return false;
  if (rule.ports && !rule.ports.some((p) => (typeof p === 'number' ? p === request.port : request.port >= Number(p.split('-')[0]) && request.port <= Number(p.split('-')[1]))) ) return false;
  const visible = request.kind !== 'connect';
  if (rule.methods && !(visible && request.method && rule.methods.includes(request.method))) return false;
  if (rule.paths && !(visible && request.path !== undefined && rule.paths.some((p) => compilePathPattern(p)(normalizeHttpPath(request.path ?? ''))))) return false;
  return true;
}

test('indexed decisions equal a linear evaluation (random policies, 3 layers x 300 rules)', () => {
  const rand = prng(20240601);
  const layers: Record<Exclude<PolicyLayerName, 'builtin'>, PolicyRule[]> = { user: [], managed: [], fleet: [] };
  const sources: LayerSource[] = [];
  for (const layer of ['user', 'managed', 'fleet'] as const) {
    for (let i = 0; i < 300; i++) layers[layer].push(randomRule(rand, `${layer}-${i}`));
    const parsed = parsePolicyValue({ version: 1, defaults: { egress: 'log' }, rules: layers[layer] }, layer);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems.slice(0, 3)));
    sources.push({ layer, file: layer, status: 'loaded', policy: parsed.policy });
  }
  const policy = compilePolicy(sources);
  const principals = [agent('claude-code'), agent('codex'), agent('claude-code', 'agent_special'), { attributed: true, chain: [], agent: null } satisfies Principal];
  for (let n = 0; n < 1500; n++) {
    const name = rand() < 0.6 ? pick(rand, [...NAMES, 'z.y.x.a.example', 'nomatch.net']) : pick(rand, [...IPS, '10.200.0.1', '::1']);
    const port = pick(rand, [443, 80, 8050, 9000]);
    const kind = pick(rand, ['connect', 'http', 'https'] as const);
    const request: EgressRequest = kind === 'connect' ? { kind, host: name, port } : { kind, host: name, port, method: pick(rand, ['GET', 'POST', 'DELETE']), path: pick(rand, ['/api/v1', '/admin/x', '/x/1/y', '/other']) };
    const principal = pick(rand, principals);
    const verdicts: Verdict<PolicyRule>[] = [];
    for (const layer of ['user', 'managed', 'fleet'] as const) {
      const rule = layers[layer].find((r) => referenceMatch(r, request, principal));
      verdicts.push(rule ? { layer, action: rule.action, source: 'rule', rule, key: rule.id } : { layer, action: 'log', source: 'default', rule: null, key: 'defaults.egress' });
    }
    const expected = combineVerdicts(verdicts).winner;
    const d = decide(policy, { request, principal, mode: 'enforce' });
    const expectedRule = expected?.rule ? `${expected.layer}:${expected.rule.id}` : 'default';
    assert.equal(d.rule, expectedRule, `request ${JSON.stringify(request)} principal ${principal.agent?.id ?? 'none'}`);
    assert.equal(d.action, expected?.action);
  }
});
