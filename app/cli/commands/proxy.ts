/** `cordon run -- CMD ...` and `cordon proxy env`: put any command or shell behind the Cordon proxy. */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { CoreError } from '../../api/errors.ts';
import { connectControl } from '../../client/controlClient.ts';
import { applyRunEnv, cordonRunEnv, formatRunEnv, writeCaBundle } from '../../proxy/runEnv.ts';
import { runChild } from '../../proxy/runChild.ts';
import { HEALTH_PATH } from '../../proxy/target.ts';
import { ensurePrivateDir } from '../../util/paths.ts';
import { stringOption, UsageError, type Command, type CommandContext, type ParsedArgs } from '../command.ts';

const FORMATS = ['sh', 'fish', 'powershell', 'json'] as const;
type Format = (typeof FORMATS)[number];

const sharedOptions = {
  agent: { type: 'string' },
  proxy: { type: 'string' },
  ca: { type: 'string' },
  'no-proxy': { type: 'string' },
} as const;

const run: Command = {
  name: 'run',
  summary: 'run a command with its network traffic through the Cordon proxy',
  usage: '[--agent NAME] [--proxy URL] [--ca FILE] [--no-proxy LIST] -- CMD [ARGS...]',
  options: sharedOptions,
  async run(ctx, args) {
    if (args.rest.length === 0) throw new UsageError("give the command to run after '--'");
    const env = await runEnvironment(ctx, args);
    if (!(await proxyAnswers(env.CORDON_PROXY_URL as string))) {
      ctx.stderr.write(`cordon run: the Cordon proxy at ${env.CORDON_PROXY_URL} does not answer; network calls from the command will fail\n`);
    }
    return runChild(args.rest, { env: applyRunEnv(ctx.env, env), cwd: ctx.cwd, stderr: ctx.stderr });
  },
};

const proxyEnv: Command = {
  name: 'proxy env',
  summary: 'print the environment that puts a shell behind the Cordon proxy',
  usage: '[--agent NAME] [--proxy URL] [--ca FILE] [--no-proxy LIST] [--format sh|fish|powershell|json]',
  options: { ...sharedOptions, format: { type: 'string' } },
  async run(ctx, args) {
    const format = (stringOption(args, 'format') ?? 'sh') as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    ctx.stdout.write(formatRunEnv(await runEnvironment(ctx, args), format));
    return 0;
  },
};

export const proxyCommands: readonly Command[] = [run, proxyEnv];

/**
 * The run variables: the proxy URL from --proxy, CORDON_PROXY_URL or the daemon's status; the CA
 * from --ca, CORDON_CA_FILE, the daemon's status or the identity module's exported bundle.
 */
async function runEnvironment(ctx: CommandContext, args: ParsedArgs): Promise<Record<string, string>> {
  let proxyUrl = stringOption(args, 'proxy') ?? nonEmpty(ctx.env.CORDON_PROXY_URL);
  let caFile = optionalPath(ctx, stringOption(args, 'ca') ?? nonEmpty(ctx.env.CORDON_CA_FILE));
  if (proxyUrl === undefined || caFile === undefined) {
    const fromDaemon = await daemonProxy(ctx, proxyUrl === undefined);
    proxyUrl ??= fromDaemon.url;
    caFile ??= fromDaemon.caFile ?? (await exportedCaBundle(ctx));
  }
  if (proxyUrl === undefined) throw new CoreError('ERR_DAEMON_UNREACHABLE', 'the daemon reports no proxy; pass --proxy URL');
  let bundleFile: string | undefined;
  if (caFile !== undefined) {
    ensurePrivateDir(ctx.paths.runtimeDir);
    bundleFile = writeCaBundle(caFile, ctx.paths.runtimeDir);
  }
  const agent = stringOption(args, 'agent');
  const noProxy = stringOption(args, 'no-proxy');
  return cordonRunEnv(proxyUrl, caFile, agent, { ...(bundleFile ? { bundleFile } : {}), ...(noProxy !== undefined ? { noProxy } : {}) });
}

/** proxy.url and proxy.caFile from the daemon's status (read defensively: older daemons have no proxy section). */
async function daemonProxy(ctx: CommandContext, required: boolean): Promise<{ url?: string; caFile?: string }> {
  let client;
  try {
    client = await connectControl(ctx.paths.socketPath, 1000);
  } catch (error) {
    if (required) throw new CoreError('ERR_DAEMON_UNREACHABLE', `no proxy URL: pass --proxy URL or start the daemon (${(error as Error).message})`);
    return {};
  }
  try {
    const status = (await client.call('status', {}, 5000)) as unknown as { proxy?: { url?: unknown; caFile?: unknown } };
    const url = typeof status.proxy?.url === 'string' ? status.proxy.url : undefined;
    const caFile = typeof status.proxy?.caFile === 'string' ? status.proxy.caFile : undefined;
    return { ...(url ? { url } : {}), ...(caFile ? { caFile } : {}) };
  } catch (error) {
    if (required) throw error;
    return {};
  } finally {
    client.close();
  }
}

/** The CA bundle the identity module exports (<dataDir>/ca/cordon-ca.pem), when it exists. */
async function exportedCaBundle(ctx: CommandContext): Promise<string | undefined> {
  try {
    const { defaultBundlePath } = await import('../../identity/ca/rootCa.ts');
    const path = defaultBundlePath(ctx.paths.dataDir);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** True when the proxy answers its health path within a second. */
function proxyAnswers(proxyUrl: string): Promise<boolean> {
  return new Promise((done) => {
    const url = new URL(proxyUrl);
    const req = request({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, path: HEALTH_PATH, timeout: 1000, agent: false }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function optionalPath(ctx: CommandContext, path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(ctx.cwd, path);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
