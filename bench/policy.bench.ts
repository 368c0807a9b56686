// Policy decision time: decide() p50/p99 with 10, 1,000 and 10,000 user rules (plus the builtin
// layer), on a mix of exact-host, wildcard, CIDR, per-agent and port rules and of hits and misses.
// Baseline in the same run: the 10-rule policy. Target (issue 4): p50 <= 5 us at 10,000 rules, and
// the cost should not grow with the rule count (ratio near 1).
// Usage: node bench/policy.bench.ts   (or npm run bench -- policy)
import { pathToFileURL } from 'node:url';
import type { EgressRequest, Principal } from '../app/api/enforcement.ts';
import type { PolicyRule } from '../app/api/policy.ts';
import { builtinSource } from '../app/policy/builtin.ts';
import { compilePolicy, type CompiledPolicy } from '../app/policy/compile.ts';
import { decide, type DecisionInput } from '../app/policy/decide.ts';
import { parsePolicyValue } from '../app/policy/parse.ts';
import { percentile, printTable } from './report.ts';

const SIZES = [10, 1_000, 10_000] as const;
const WARMUP = 20_000;
const SAMPLES = 60_000;
const TARGET_US = 5;

const PRINCIPALS: readonly Principal[] = ['claude-code', 'codex', 'gemini-cli'].map((kind) => ({
  attributed: true,
  chain: [],
  agent: { id: `agent_${kind}`, kind, name: kind, pid: 1, exe: null },
}));

export async function run(): Promise<void> {
  const rows: string[][] = [];
  let baseline = Number.NaN;
  let p50At10k = Number.NaN;
  buildPolicy(SIZES[0]); // load the validator and the builtin layer outside the timings
  for (const size of SIZES) {
    const started = performance.now();
    const policy = buildPolicy(size);
    const compileMs = performance.now() - started;
    const inputs = requests(size);
    const samples = measure(policy, inputs);
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    if (size === SIZES[0]) baseline = p50;
    if (size === 10_000) p50At10k = p50;
    rows.push([
      size.toLocaleString('en-US'),
      compileMs.toFixed(1),
      p50.toFixed(2),
      p99.toFixed(2),
      `${(p50 / baseline).toFixed(2)}x`,
      size === 10_000 ? `<= ${TARGET_US} us p50` : '',
    ]);
  }
  printTable(['user rules', 'validate+compile ms', 'decide p50 us', 'decide p99 us', 'p50 ratio to 10 rules', 'target'], rows);
  process.stdout.write(`10,000-rule p50 / 10-rule p50 = ${(p50At10k / baseline).toFixed(2)}x (baseline measured in this run)\n`);
  process.stdout.write(`${p50At10k <= TARGET_US ? 'meets' : 'MISSES'} the ${TARGET_US} us p50 decision target at 10,000 rules (${SAMPLES.toLocaleString('en-US')} decisions per size)\n`);
}

/** A user layer of `size` rules in the shapes security teams write, over the builtin layer. */
function buildPolicy(size: number): CompiledPolicy {
  const rules: PolicyRule[] = [];
  for (let i = 0; i < size; i++) {
    const kind = i % 20;
    const action = (['allow', 'log', 'ask', 'deny'] as const)[i % 4] ?? 'allow';
    if (kind < 10) rules.push({ id: `exact-${i}`, action, hosts: [`h${i}.corp${i % 97}.example`] });
    else if (kind < 14) rules.push({ id: `wild-${i}`, action, hosts: [`*.svc${i}.example`] });
    else if (kind < 17) rules.push({ id: `cidr-${i}`, action, cidrs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`] });
    else if (kind < 19) rules.push({ id: `agent-${i}`, agents: [i % 2 === 0 ? 'claude-code' : 'codex'], action, hosts: [`a${i}.vendor.example`], ports: [443] });
    else rules.push({ id: `ports-${i}`, action, hosts: [`p${i}.corp.example`], ports: ['8000-8999', 443] });
  }
  const parsed = parsePolicyValue({ version: 1, defaults: { egress: 'ask' }, rules }, 'bench-user.yaml');
  if (!parsed.ok) throw new Error(`bench policy invalid: ${parsed.problems[0]?.message ?? ''}`);
  return compilePolicy([builtinSource(), { layer: 'user', file: 'bench-user.yaml', status: 'loaded', policy: parsed.policy }]);
}

/** A fixed mix: hits on each rule shape, wildcard hits deep under a suffix, IP hits, misses. */
function requests(size: number): DecisionInput[] {
  const out: DecisionInput[] = [];
  const at = (i: number): number => Math.floor((i * 7919) % size);
  for (let n = 0; n < 256; n++) {
    const i = at(n);
    const principal = PRINCIPALS[n % PRINCIPALS.length] as Principal;
    let request: EgressRequest;
    switch (n % 6) {
      case 0:
        request = { kind: 'connect', host: `h${i}.corp${i % 97}.example`, port: 443 };
        break;
      case 1:
        request = { kind: 'connect', host: `deep.api.svc${i}.example`, port: 443 };
        break;
      case 2:
        request = { kind: 'connect', host: `10.${(i >> 8) & 255}.${i & 255}.${n & 255}`, port: 443 };
        break;
      case 3:
        request = { kind: 'http', host: `a${i}.vendor.example`, port: 80, method: 'POST', path: '/v1/messages?x=1' };
        break;
      case 4:
        request = { kind: 'connect', host: 'api.anthropic.com', port: 443 };
        break;
      default:
        request = { kind: 'connect', host: `miss${n}.unknown.example`, port: 443 };
    }
    out.push({ request, principal, mode: 'enforce', ...(n % 10 === 0 ? { flags: ['first-seen-destination'] } : {}) });
  }
  return out;
}

function measure(policy: CompiledPolicy, inputs: readonly DecisionInput[]): number[] {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += decide(policy, inputs[i % inputs.length] as DecisionInput).reasons.length;
  const samples = new Array<number>(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const input = inputs[i % inputs.length] as DecisionInput;
    const t0 = process.hrtime.bigint();
    sink += decide(policy, input).reasons.length;
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  if (sink < 0) process.stdout.write('');
  return samples;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
