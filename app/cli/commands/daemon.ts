/** `cordon daemon`, `cordon status`, `cordon stop`, `cordon events`: running and asking the daemon. */
import { resolve } from 'node:path';
import type { CordonEvent, DaemonStatus } from '../../api/control.ts';
import { connectControl } from '../../client/controlClient.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { createLogger, type LogLevel } from '../../util/log.ts';
import { flag, stringOption, UsageError, writeJson, type Command, type CommandContext } from '../command.ts';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const daemon: Command = {
  name: 'daemon',
  summary: 'run the Cordon daemon in the foreground (for service managers)',
  usage: '[--home DIR] [--log-level debug|info|warn|error]',
  options: { home: { type: 'string' }, 'log-level': { type: 'string' } },
  async run(ctx, args) {
    const level = (stringOption(args, 'log-level') ?? 'info') as LogLevel;
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    const log = createLogger(ctx.stderr, level, { component: 'daemon' });
    const home = stringOption(args, 'home');
    // Handlers go in before start-up: the control socket answers before start-up ends, and a
    // service manager's SIGTERM in that window must still mean a clean stop.
    let signalled: NodeJS.Signals | null = null;
    let running: Awaited<ReturnType<typeof startDaemon>> | null = null;
    const onSignal = (signal: NodeJS.Signals): void => {
      signalled = signal;
      if (running) void running.stop(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onSignal);
    running = await startDaemon({ paths: ctx.paths, env: ctx.env, log, ...(home ? { home: resolve(ctx.cwd, home) } : {}) });
    if (signalled) void running.stop(signalled);
    await running.stopped;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onSignal);
    return 0;
  },
};

const status: Command = {
  name: 'status',
  summary: 'show what the daemon is doing',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx, args) {
    const client = await connectControl(ctx.paths.socketPath);
    try {
      const value = await client.call('status');
      if (flag(args, 'json')) writeJson(ctx.stdout, value);
      else ctx.stdout.write(formatStatus(value));
      return 0;
    } finally {
      client.close();
    }
  },
};

const stop: Command = {
  name: 'stop',
  summary: 'ask the daemon to shut down cleanly',
  usage: '',
  options: {},
  async run(ctx) {
    const client = await connectControl(ctx.paths.socketPath);
    try {
      await client.call('shutdown');
      ctx.stdout.write('daemon stopping\n');
      return 0;
    } finally {
      client.close();
    }
  },
};

const events: Command = {
  name: 'events',
  summary: 'list recorded events (inventory changes, daemon and settings events)',
  usage: '[--since ISO_TIME] [--type TYPE]... [--limit N] [--follow] [--json]',
  options: { since: { type: 'string' }, type: { type: 'string', multiple: true }, limit: { type: 'string' }, follow: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, args) {
    const limitText = stringOption(args, 'limit');
    const limit = limitText === undefined ? 50 : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
    const since = stringOption(args, 'since');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError('--since must be an ISO 8601 time');
    const types = args.values.type as string[] | undefined;
    const json = flag(args, 'json');
    const client = await connectControl(ctx.paths.socketPath);
    try {
      const list = await client.call('events', { limit, ...(since ? { since } : {}), ...(types ? { types } : {}) });
      const ordered = [...list].reverse();
      for (const event of ordered) printEvent(ctx, event, json);
      if (!flag(args, 'follow')) return 0;
      const lastSeq = ordered.at(-1)?.seq ?? (await client.call('status')).events.lastSeq ?? 0;
      client.onEvent((event) => {
        if (!types || types.includes(event.type)) printEvent(ctx, event, json);
      });
      await client.call('subscribe', { afterSeq: lastSeq });
      await new Promise<void>((resolveDone) => {
        process.once('SIGINT', () => resolveDone());
        process.once('SIGTERM', () => resolveDone());
      });
      return 0;
    } finally {
      client.close();
    }
  },
};

const pause: Command = {
  name: 'pause',
  summary: 'pause enforcement for some minutes (monitor mode: decide and record, block nothing), unless IT forbids it',
  usage: '[--minutes N]',
  options: { minutes: { type: 'string' } },
  async run(ctx, args) {
    const minutes = Number(stringOption(args, 'minutes') ?? '15');
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new UsageError('--minutes must be an integer from 1 to 1440');
    const client = await connectControl(ctx.paths.socketPath);
    try {
      const { until } = await client.call('pause', { minutes });
      ctx.stdout.write(`protection paused until ${until} (cordon resume to end it now)\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};

const resume: Command = {
  name: 'resume',
  summary: 'end a pause now',
  usage: '',
  options: {},
  async run(ctx) {
    const client = await connectControl(ctx.paths.socketPath);
    try {
      await client.call('resume', {});
      ctx.stdout.write('protection resumed\n');
      return 0;
    } finally {
      client.close();
    }
  },
};

export const daemonCommands: readonly Command[] = [daemon, status, stop, events, pause, resume];

function printEvent(ctx: CommandContext, event: CordonEvent, json: boolean): void {
  ctx.stdout.write(json ? `${JSON.stringify(event)}\n` : `${event.time}  ${event.type.padEnd(16)}  ${event.summary}\n`);
}

function formatStatus(s: DaemonStatus): string {
  const lines = [
    `Cordon ${s.version}: daemon running (pid ${s.pid}, up ${formatDuration(s.uptimeSeconds)})`,
    `  mode:        ${s.mode}${s.paused ? ` (PAUSED until ${s.paused.until})` : ''}`,
    `  inventory:   ${s.inventory.agents} agents, ${s.inventory.mcpServers} MCP servers, ${s.inventory.errors} unreadable files (scanned ${s.inventory.scannedAt ?? 'never'}${s.inventory.lastScanMs !== null ? ` in ${s.inventory.lastScanMs} ms` : ''})`,
    `  watching:    ${s.watcher.enabled ? `${s.watcher.paths} paths, ${s.watcher.scans} scans, last change ${s.watcher.lastChangeAt ?? 'none'}` : 'off (settings: watchEnabled=false)'}`,
    `  settings:    ${s.settings.problems === 0 ? 'ok' : `${s.settings.problems} problem(s): run 'cordon settings'`}${s.settings.managedPath ? ` (managed: ${s.settings.managedPath})` : ''}`,
    `  proxy:       ${s.proxy ? `${s.proxy.url} (${s.proxy.mode})` : 'not running (see the daemon log)'}`,
    `  policy:      ${s.policy.rules} rules${s.policy.problems > 0 ? `, ${s.policy.problems} problem(s): run 'cordon policy show'` : ''}`,
    `  approvals:   ${s.approvals.pending} pending${s.approvals.pending > 0 ? ": run 'cordon approvals list'" : ''}`,
    `  keychain:    ${s.keychain.available ? 'available' : `UNAVAILABLE: ${s.keychain.error ?? ''} (TLS inspection and DPoP are off)`}`,
    `  CA bundle:   ${s.ca.bundle ?? 'none'}`,
    `  fleet:       ${!s.fleet ? 'unavailable (keychain)' : s.fleet.phase === 'disabled' ? 'standalone (no fleetServerUrl)' : `${s.fleet.phase}${s.fleet.deviceId ? `, device ${s.fleet.deviceId}` : ''} at ${s.fleet.serverUrl ?? '?'}${s.fleet.pendingEvents > 0 ? `, ${s.fleet.pendingEvents} events to send` : ''}${s.fleet.lastError ? ` (last error: ${s.fleet.lastError})` : ''}`}`,
    `  events:      ${s.events.total} recorded`,
    `  socket:      ${s.socketPath}`,
    `  database:    ${s.databaseFile}`,
  ];
  return `${lines.join('\n')}\n`;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}
