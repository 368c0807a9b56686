/** `cordon policy ...` verbs: check a policy file, explain a decision, show the effective policy, print the schema. */
import { resolve } from 'node:path';
import type { Principal } from '../../api/enforcement.ts';
import type { PolicyExplanation, PolicyMode } from '../../api/policy.ts';
import { explainDecision, effectivePolicyView } from '../../policy/explain.ts';
import { loadEffectivePolicy, readPolicyFile } from '../../policy/load.ts';
import { formatExplanation, formatPolicyView, formatProblem, formatSummary, summarize } from '../../policy/render.ts';
import { POLICY_SCHEMA } from '../../policy/schema.ts';
import type { DecisionInput } from '../../policy/decide.ts';
import { flag, requireOption, stringOption, UsageError, writeJson, type Command, type CommandContext, type ParsedArgs } from '../command.ts';

const checkCommand: Command = {
  name: 'policy check',
  summary: 'validate policy files: every problem with file:line:column and rule id',
  usage: 'FILE... [--json]',
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('name at least one policy FILE');
    const reports = [];
    let valid = true;
    for (const name of args.positionals) {
      const file = resolve(ctx.cwd, name);
      const read = await readPolicyFile(file);
      if (read === 'missing') {
        valid = false;
        reports.push({ file, ok: false, problems: [{ file, line: 0, column: 0, path: '', severity: 'error' as const, message: 'no such file' }] });
        continue;
      }
      valid &&= read.ok;
      reports.push({ file, ok: read.ok, problems: read.problems, ...(read.ok ? { summary: summarize(read.policy.document) } : {}) });
    }
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, { ok: valid, files: reports });
      return valid ? 0 : 1;
    }
    for (const r of reports) {
      for (const p of r.problems) (r.ok ? ctx.stdout : ctx.stderr).write(`${formatProblem(p)}\n`);
      if (r.ok && r.summary) ctx.stdout.write(formatSummary(r.file, r.summary));
      else ctx.stderr.write(`${r.file}: invalid (${r.problems.filter((p) => p.severity === 'error').length} error${r.problems.filter((p) => p.severity === 'error').length === 1 ? '' : 's'})\n`);
    }
    return valid ? 0 : 1;
  },
};

const explainCommand: Command = {
  name: 'policy explain',
  summary: 'say which rule decides a request to URL for an agent, and why, layer by layer',
  usage: '--agent KIND|ID --url URL [--method M] [--policy FILE]... [--flag CODE]... [--secrets] [--unattributed] [--mode monitor|enforce] [--json]',
  options: {
    agent: { type: 'string' },
    url: { type: 'string' },
    method: { type: 'string' },
    policy: { type: 'string', multiple: true },
    flag: { type: 'string', multiple: true },
    secrets: { type: 'boolean' },
    unattributed: { type: 'boolean' },
    mode: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(ctx, args) {
    const url = parseTarget(requireOption(args, 'url'));
    const agent = stringOption(args, 'agent');
    const unattributed = flag(args, 'unattributed');
    if (!agent && !unattributed) throw new UsageError('--agent is required (or --unattributed)');
    const modeOption = stringOption(args, 'mode');
    if (modeOption !== undefined && modeOption !== 'monitor' && modeOption !== 'enforce') throw new UsageError('--mode is monitor or enforce');
    const loaded = await load(ctx, args);
    const mode: PolicyMode = (modeOption as PolicyMode | undefined) ?? loaded.settingsMode;
    const principal: Principal = unattributed
      ? { attributed: false, reason: 'simulated with --unattributed', chain: [], agent: null }
      : { attributed: true, chain: [], agent: { id: agent ?? '', kind: agent ?? '', name: agent ?? '', pid: 0, exe: null } };
    const method = (stringOption(args, 'method') ?? 'GET').toUpperCase();
    if (!/^[A-Z]{1,20}$/.test(method)) throw new UsageError('--method must be an HTTP method such as GET');
    const common = { principal, mode, flags: (args.values.flag as string[] | undefined) ?? [], secrets: flag(args, 'secrets') };
    const stages: { title: string; explanation: PolicyExplanation }[] = [];
    if (url.tls) {
      // An HTTPS client sends CONNECT first; the path is visible only if the host is inspected.
      const connect: DecisionInput = { ...common, request: { kind: 'connect', host: url.host, port: url.port } };
      const first = explainDecision(loaded.policy, connect);
      stages.push({ title: `CONNECT ${url.hostPort}`, explanation: first });
      if (first.decision.inspect && first.decision.action !== 'deny') {
        const inner: DecisionInput = { ...common, request: { kind: 'https', host: url.host, port: url.port, method, path: url.path } };
        stages.push({ title: `${method} ${url.href} (inspected)`, explanation: explainDecision(loaded.policy, inner) });
      }
    } else {
      const request: DecisionInput = { ...common, request: { kind: 'http', host: url.host, port: url.port, method, path: url.path } };
      stages.push({ title: `${method} ${url.href}`, explanation: explainDecision(loaded.policy, request) });
    }
    const final = stages[stages.length - 1]?.explanation;
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, { mode, decision: final?.decision, stages, problems: loaded.problems });
      return 0;
    }
    for (const p of loaded.problems) ctx.stderr.write(`${formatProblem(p)}\n`);
    for (const s of stages) ctx.stdout.write(formatExplanation(s.title, s.explanation));
    if (url.tls && stages.length === 1 && stages[0]?.explanation.decision.action !== 'deny') {
      ctx.stdout.write(`note: ${url.host} is not inspected, so only the host and port are visible (method and path rules do not apply)\n`);
    }
    ctx.stdout.write(`mode: ${mode}\n`);
    return 0;
  },
};

const showCommand: Command = {
  name: 'policy show',
  summary: 'print the effective layered policy, with the layer and file:line of every rule',
  usage: '[--policy FILE]... [--json]',
  options: { policy: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const loaded = await load(ctx, args);
    const view = effectivePolicyView(loaded.policy);
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, { ...view, settingsMode: loaded.settingsMode, problems: loaded.problems });
      return 0;
    }
    for (const p of loaded.problems) ctx.stderr.write(`${formatProblem(p)}\n`);
    ctx.stdout.write(formatPolicyView(view));
    return 0;
  },
};

const schemaCommand: Command = {
  name: 'policy schema',
  summary: 'print the JSON Schema of policy files (for editors and validators)',
  usage: '',
  options: {},
  async run(ctx) {
    writeJson(ctx.stdout, POLICY_SCHEMA);
    return 0;
  },
};

export const policyCommands: readonly Command[] = [checkCommand, explainCommand, showCommand, schemaCommand];

function load(ctx: CommandContext, args: ParsedArgs): ReturnType<typeof loadEffectivePolicy> {
  const extra = ((args.values.policy as string[] | undefined) ?? []).map((f) => resolve(ctx.cwd, f));
  return loadEffectivePolicy({ paths: ctx.paths, env: ctx.env, extraUserFiles: extra, ...(ctx.env.HOME ? { home: ctx.env.HOME } : {}) });
}

type Target = { host: string; port: number; path: string; tls: boolean; href: string; hostPort: string };

function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`);
  } catch {
    throw new UsageError(`--url is not a URL: ${text.slice(0, 200)}`);
  }
  const schemes: Record<string, { tls: boolean; port: number }> = {
    'http:': { tls: false, port: 80 },
    'ws:': { tls: false, port: 80 },
    'https:': { tls: true, port: 443 },
    'wss:': { tls: true, port: 443 },
  };
  const scheme = schemes[url.protocol];
  if (!scheme) throw new UsageError(`--url must be http(s):// or ws(s)://, not ${url.protocol}`);
  if (url.hostname === '') throw new UsageError('--url has no host');
  const port = url.port === '' ? scheme.port : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // Credentials in the URL are never echoed.
  url.username = '';
  url.password = '';
  return { host, port, path: `${url.pathname}${url.search}`, tls: scheme.tls, href: url.href, hostPort: `${url.hostname}:${port}` };
}
