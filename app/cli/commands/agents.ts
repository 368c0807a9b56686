/**
 * `cordon agents protect | unprotect | status`: put installed agents behind Cordon (their
 * pre-action hook, and the proxy and CA environment where the agent has a place for it; with
 * --mcp their stdio MCP servers through the gateway, literal env secrets moved to the keychain).
 */
import type { ProtectScope } from '../../api/settings.ts';
import { connectControl } from '../../client/controlClient.ts';
import { protectSettingsFor } from '../../protect/hookCommand.ts';
import { protectAgent, protectContext, protectionState, unprotectAgent } from '../../protect/protect.ts';
import { isProtectAgent, PROTECT_AGENTS, type ProtectAgent, type ProtectOutcome, type ProtectSettings } from '../../protect/types.ts';
import { flag, stringOption, UsageError, writeJson, type Command, type CommandContext, type ParsedArgs } from '../command.ts';

const AGENT_LIST = PROTECT_AGENTS.join('|');

const common = { scope: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' } } as const;

const protect: Command = {
  name: 'agents protect',
  summary: "install Cordon's hook and proxy environment into an agent's own settings (--mcp: route its MCP servers through the gateway)",
  usage: `<${AGENT_LIST}> [--scope user|managed] [--mcp] [--proxy URL] [--ca FILE] [--no-proxy LIST] [--home DIR] [--json]`,
  options: { ...common, mcp: { type: 'boolean' }, proxy: { type: 'string' }, ca: { type: 'string' }, 'no-proxy': { type: 'string' } },
  positionals: true,
  async run(ctx, args) {
    const agent = agentArg(args);
    const scope = await scopeOf(ctx, args);
    if (flag(args, 'mcp') && scope !== 'user') throw new UsageError("--mcp routes the servers of the user's own MCP config: use it with --scope user");
    const settings = await protectSettings(ctx, args, agent);
    const outcome = await protectAgent(agent, scope, settings, protectContext(ctx.paths, ctx.env, homeOf(ctx, args)));
    return report(ctx, args, outcome);
  },
};

const unprotect: Command = {
  name: 'agents unprotect',
  summary: "remove Cordon's hook, environment and MCP routing from an agent's settings (restoring the file when untouched, moved secrets included)",
  usage: `<${AGENT_LIST}> [--scope user|managed] [--home DIR] [--json]`,
  options: common,
  positionals: true,
  async run(ctx, args) {
    const agent = agentArg(args);
    const outcome = await unprotectAgent(agent, await scopeOf(ctx, args), protectContext(ctx.paths, ctx.env, homeOf(ctx, args)));
    return report(ctx, args, outcome);
  },
};

const status: Command = {
  name: 'agents status',
  summary: 'show which agents Cordon protects, and whether their protection drifted',
  usage: `[<${AGENT_LIST}>] [--scope user|managed] [--home DIR] [--json]`,
  options: common,
  positionals: true,
  async run(ctx, args) {
    if (args.positionals.length > 1) throw new UsageError('give at most one agent');
    const agents: readonly ProtectAgent[] = args.positionals.length === 1 ? [agentArg(args)] : PROTECT_AGENTS;
    const scope = await scopeOf(ctx, args);
    const pctx = protectContext(ctx.paths, ctx.env, homeOf(ctx, args));
    const states = await Promise.all(agents.map((a) => protectionState(a, scope, pctx)));
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, states);
      return 0;
    }
    for (const s of states) {
      const label = s.drifted ? 'DRIFTED' : s.protected ? 'protected' : 'not protected';
      ctx.stdout.write(`${s.agent.padEnd(12)} ${label} (${s.scope})\n`);
      for (const f of s.files) {
        if (!s.recorded && f.hook !== 'altered') continue;
        ctx.stdout.write(`  ${f.path}: hook ${f.hook}, env ${f.env}${f.mcp ? `, mcp ${f.mcp}` : ''}${f.exists ? '' : ' (file missing)'}\n`);
        for (const p of f.problems) ctx.stdout.write(`    ${p}\n`);
      }
    }
    return 0;
  },
};

export const agentsCommands: readonly Command[] = [protect, unprotect, status];

function agentArg(args: ParsedArgs): ProtectAgent {
  const name = args.positionals[0];
  if (args.positionals.length !== 1 || name === undefined) throw new UsageError(`give one agent: ${AGENT_LIST}`);
  if (!isProtectAgent(name)) throw new UsageError(`unknown agent '${name.slice(0, 64)}' (one of ${AGENT_LIST})`);
  return name;
}

async function scopeOf(ctx: CommandContext, args: ParsedArgs): Promise<ProtectScope> {
  const given = stringOption(args, 'scope');
  if (given !== undefined) {
    if (given !== 'user' && given !== 'managed') throw new UsageError('--scope must be user or managed');
    return given;
  }
  const { loadSettings } = await import('../../config/settings.ts');
  return (await loadSettings({ paths: ctx.paths, env: ctx.env, platform: process.platform })).effective.protectScope;
}

function homeOf(ctx: CommandContext, args: ParsedArgs): string {
  const home = stringOption(args, 'home') ?? ctx.env.HOME;
  if (!home) throw new UsageError('HOME is not set: pass --home DIR');
  return home;
}

async function protectSettings(ctx: CommandContext, args: ParsedArgs, agent: ProtectAgent): Promise<ProtectSettings> {
  let proxyUrl = stringOption(args, 'proxy');
  let caFile = stringOption(args, 'ca');
  if (proxyUrl === undefined || caFile === undefined) {
    const fromDaemon = await daemonProxy(ctx);
    proxyUrl ??= fromDaemon.url;
    caFile ??= fromDaemon.caFile;
  }
  if (proxyUrl !== undefined) checkProxyUrl(proxyUrl);
  const noProxy = stringOption(args, 'no-proxy');
  const proxy = { ...(proxyUrl !== undefined ? { proxyUrl } : {}), ...(caFile !== undefined ? { caFile } : {}), ...(noProxy !== undefined ? { noProxy } : {}) };
  return protectSettingsFor(agent, proxy, { mcp: flag(args, 'mcp') });
}

async function daemonProxy(ctx: CommandContext): Promise<{ url?: string; caFile?: string }> {
  let client;
  try {
    client = await connectControl(ctx.paths.socketPath, 1000);
  } catch {
    return {};
  }
  try {
    const s = await client.call('status', {}, 5000);
    return { ...(s.proxy?.url ? { url: s.proxy.url } : {}), ...(s.proxy?.caFile ? { caFile: s.proxy.caFile } : {}) };
  } catch {
    return {};
  } finally {
    client.close();
  }
}

function checkProxyUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--proxy '${text.slice(0, 100)}' is not a URL (expected http://127.0.0.1:PORT)`);
  }
  if (url.protocol !== 'http:' || url.username || url.password) throw new UsageError('--proxy must be http://host:port');
}

function report(ctx: CommandContext, args: ParsedArgs, outcome: ProtectOutcome): number {
  if (flag(args, 'json')) writeJson(ctx.stdout, outcome);
  else {
    ctx.stdout.write(`${outcome.agent} (${outcome.scope}): ${outcome.status}\n`);
    for (const f of outcome.files) ctx.stdout.write(`  edited ${f}\n`);
    for (const n of outcome.notes) ctx.stdout.write(`  note: ${n}\n`);
  }
  return outcome.status === 'conflict' || outcome.status === 'failed' ? 1 : 0;
}
