/**
 * `cordon mcp wrap|tools|approve|serve-remote`: the MCP gateway's verbs. `wrap` runs a local
 * server behind the gateway on stdio (with --secret-env, secrets from the keychain go into the
 * server's environment only); `serve-remote` fronts a remote server on a loopback URL;
 * `tools`/`approve` show and accept a server's tool set (rug-pull protection).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCredentialStore, isCredentialName } from '../../identity/credentials.ts';
import { createDaemonPolicy } from '../../mcp/gatewayPolicy.ts';
import { createGatewayCore } from '../../mcp/gateway.ts';
import { startRemoteGateway, type DpopMode } from '../../mcp/remoteGateway.ts';
import { startStdioGateway } from '../../mcp/stdioWrap.ts';
import { compareToolSets, createToolStore, checkServerName } from '../../mcp/toolSet.ts';
import { flag, requireOption, stringOption, UsageError, writeJson, type Command, type CommandContext } from '../command.ts';
import { keyStoreFor } from './identity.ts';

const DEFAULT_AGENT = 'mcp-client';

const wrap: Command = {
  name: 'mcp wrap',
  summary: 'run a local MCP server behind the Cordon gateway (tool policy, audit, rug-pull checks) on stdio',
  usage: '--server NAME [--agent KIND] [--secret-env VAR=CREDENTIAL]... -- CMD [ARGS...]',
  options: { server: { type: 'string' }, agent: { type: 'string' }, 'secret-env': { type: 'string', multiple: true } },
  async run(ctx, args) {
    const server = serverOption(args.values.server);
    if (args.rest.length === 0) throw new UsageError('give the server command after --, e.g. cordon mcp wrap --server fs -- npx @modelcontextprotocol/server-filesystem ~/src');
    const [command, ...rest] = args.rest as [string, ...string[]];
    const warn = (m: string): void => void ctx.stderr.write(`${m}\n`);
    const secretEnv = secretEnvOption(args.values['secret-env']);
    let env = ctx.env;
    if (secretEnv.length > 0) {
      const loaded = await loadSecretEnv(ctx, server, secretEnv);
      if (typeof loaded === 'string') {
        // The client sees the server fail to start, and shows this line from stderr.
        warn(`cordon mcp: cannot start MCP server '${server}': ${loaded}`);
        return 1;
      }
      env = { ...ctx.env, ...loaded };
    }
    const policy = createDaemonPolicy({ paths: ctx.paths, env: ctx.env, server, agent: stringOption(args, 'agent') ?? DEFAULT_AGENT, warn });
    const core = createGatewayCore({ server, policy, tools: createToolStore(ctx.paths.dataDir, server), warn });
    const gateway = startStdioGateway({ core, command, args: rest, env, cwd: ctx.cwd, stdin: process.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
    const onSignal = (): void => gateway.stop();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      return await gateway.done;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      policy.close();
      process.stdin.pause();
    }
  },
};

const tools: Command = {
  name: 'mcp tools',
  summary: "show a server's approved MCP tool set and any change waiting for approval",
  usage: '--server NAME [--json]',
  options: { server: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const store = createToolStore(ctx.paths.dataDir, serverOption(args.values.server));
    const [approved, pending] = await Promise.all([store.approved(), store.pending()]);
    const change = approved && pending ? compareToolSets(approved.tools, pending.tools) : null;
    if (flag(args, 'json')) {
      writeJson(ctx.stdout, { server: store.server, approved, pending, change });
      return 0;
    }
    if (!approved) {
      ctx.stdout.write(`no approved tool set for '${store.server}' yet: the first listing through the gateway is approved (trust on first use)\n`);
      return 0;
    }
    ctx.stdout.write(`approved tools of '${store.server}' (${approved.approvedAt}):\n`);
    for (const [name, t] of Object.entries(approved.tools).sort(([a], [b]) => a.localeCompare(b))) ctx.stdout.write(`  ${name}  ${t.hash.slice(0, 19)}  ${oneLine(t.description)}\n`);
    if (change && change.changed.length + change.added.length > 0) {
      ctx.stdout.write(`waiting for approval (seen ${pending?.approvedAt}):\n`);
      for (const name of change.changed) ctx.stdout.write(`  changed  ${name}: ${oneLine(pending?.tools[name]?.description ?? '')}\n`);
      for (const name of change.added) ctx.stdout.write(`  new      ${name}: ${oneLine(pending?.tools[name]?.description ?? '')}\n`);
      ctx.stdout.write(`accept with: cordon mcp approve --server ${store.server}\n`);
    }
    return 0;
  },
};

const approve: Command = {
  name: 'mcp approve',
  summary: "accept a server's current MCP tool set after a change (unblocks changed and new tools)",
  usage: '--server NAME',
  options: { server: { type: 'string' } },
  async run(ctx, args) {
    const store = createToolStore(ctx.paths.dataDir, serverOption(args.values.server));
    const pending = await store.pending();
    if (!pending) {
      ctx.stdout.write(`nothing to approve for '${store.server}': no change has been seen since the last approval\n`);
      return 1;
    }
    const approved = await store.approved();
    const change = compareToolSets(approved?.tools ?? {}, pending.tools);
    await store.approve(pending.tools);
    await store.clearPending();
    ctx.stdout.write(`approved the tool set of '${store.server}' (${Object.keys(pending.tools).length} tools; changed: ${change.changed.join(', ') || 'none'}; new: ${change.added.join(', ') || 'none'})\n`);
    return 0;
  },
};

const serveRemote: Command = {
  name: 'mcp serve-remote',
  summary: 'serve a loopback MCP endpoint that forwards to a remote server under policy, holding its credential',
  usage: '--server NAME --url URL [--credential NAME] [--dpop auto|always|never] [--port N] [--agent KIND]',
  options: { server: { type: 'string' }, url: { type: 'string' }, credential: { type: 'string' }, dpop: { type: 'string' }, port: { type: 'string' }, agent: { type: 'string' } },
  async run(ctx, args) {
    const server = serverOption(args.values.server);
    const dpop = (stringOption(args, 'dpop') ?? 'auto') as DpopMode;
    if (!['auto', 'always', 'never'].includes(dpop)) throw new UsageError('--dpop is auto, always or never');
    const portText = stringOption(args, 'port') ?? '0';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port is a TCP port number');
    const gateway = await startRemoteGateway({
      server,
      upstreamUrl: requireOption(args, 'url'),
      credential: stringOption(args, 'credential') ?? null,
      dpop,
      port,
      agent: stringOption(args, 'agent') ?? DEFAULT_AGENT,
      paths: ctx.paths,
      env: ctx.env,
      keyStore: keyStoreFor(ctx),
      warn: (m) => void ctx.stderr.write(`${m}\n`),
    });
    ctx.stdout.write(`${gateway.url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await gateway.close();
    return 0;
  },
};

/** The `cordon mcp ...` verbs (register in app/cli/commands/index.ts). */
export const mcpCommands: readonly Command[] = [wrap, tools, approve, serveRemote];

function serverOption(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new UsageError('--server NAME is required');
  try {
    return checkServerName(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** --secret-env VAR=CREDENTIAL, repeated: which variable gets which keychain credential. */
function secretEnvOption(value: unknown): { variable: string; credential: string }[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const m = typeof item === 'string' ? /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item) : null;
    if (!m || !isCredentialName(m[2] ?? '')) throw new UsageError(`--secret-env takes VAR=CREDENTIAL (a variable name and a credential name), not '${String(item).slice(0, 80)}'`);
    return { variable: m[1] ?? '', credential: m[2] ?? '' };
  });
}

/**
 * Reads each secret from the keychain (only credentials stored for this server), or says why not.
 * The values go into the server's environment and nowhere else: never argv, never a log line.
 */
async function loadSecretEnv(ctx: CommandContext, server: string, wanted: readonly { variable: string; credential: string }[]): Promise<Record<string, string> | string> {
  useSessionBus(ctx.env);
  const store = createCredentialStore(keyStoreFor(ctx), ctx.paths.dataDir);
  const out: Record<string, string> = {};
  for (const { variable, credential } of wanted) {
    let secret: string | null;
    try {
      secret = await store.localSecret(credential, server);
    } catch (error) {
      return `the OS keychain could not be read for ${variable} (${(error as Error).message})`;
    }
    if (secret === null) return `the secret for ${variable} (credential '${credential}') is not in the OS keychain for this server; run \`cordon agents protect <agent> --mcp\` again or put the value back in the agent's config`;
    out[variable] = secret;
  }
  return out;
}

/**
 * Codex starts MCP servers with a cleared environment, without the D-Bus address the Linux
 * Secret Service is reached by: fall back to the user's standard session bus socket.
 */
function useSessionBus(env: NodeJS.ProcessEnv): void {
  if (process.platform !== 'linux' || process.env.DBUS_SESSION_BUS_ADDRESS || env.DBUS_SESSION_BUS_ADDRESS) return;
  const runtime = env.XDG_RUNTIME_DIR || (process.getuid ? `/run/user/${process.getuid()}` : '');
  if (runtime && existsSync(join(runtime, 'bus'))) process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(runtime, 'bus')}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 100)}...` : flat;
}


