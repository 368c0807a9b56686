/**
 * `cordon attribution`: what Cordon would attribute to a process's connections (its chain of
 * parents and the matched agent), or which local process holds a TCP port. For debugging policy
 * and for checking that an agent is recognized.
 */
import type { Principal, ProcessInfo } from '../../api/enforcement.ts';
import type { Inventory } from '../../api/inventory.ts';
import { createAttributor, type AgentMatch } from '../../attribution/index.ts';
import type { LocalSocket } from '../../attribution/types.ts';
import { scan } from '../../discovery/scan.ts';
import { flag, stringOption, UsageError, writeJson, type Command } from '../command.ts';

const attributionCommand: Command = {
  name: 'attribution',
  summary: "show the process chain and agent Cordon attributes to a process (--pid) or a local TCP port (--port)",
  usage: '(--pid N | --port P) [--json] [--no-scan]',
  options: { pid: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' }, 'no-scan': { type: 'boolean' } },
  async run(ctx, args) {
    const pidText = stringOption(args, 'pid');
    const portText = stringOption(args, 'port');
    if ((pidText === undefined) === (portText === undefined)) throw new UsageError('give exactly one of --pid or --port');
    const pid = pidText === undefined ? undefined : positiveInt(pidText, 'pid', 2 ** 31 - 1);
    const port = portText === undefined ? undefined : positiveInt(portText, 'port', 65535);
    // Without an inventory, agents are recognized by their executable names only (lower confidence).
    const inventory: Inventory | null = flag(args, 'no-scan') ? null : await scan({ env: ctx.env });
    const attributor = createAttributor({ inventory: () => inventory, sockDiag: false });
    const json = flag(args, 'json');

    if (pid !== undefined) {
      const { principal, match } = await attributor.explainPid(pid);
      if (json) writeJson(ctx.stdout, { principal, match: match ? { via: match.via, chainIndex: match.chainIndex } : null, inventory: inventory !== null });
      else ctx.stdout.write(formatPrincipal(principal, match, inventory !== null));
      return principal.attributed ? 0 : 1;
    }

    const sockets = await attributor.socketsByLocalPort(port ?? 0);
    const pids = [...new Set(sockets.map((s) => s.pid).filter((p): p is number => p !== null))];
    const explained = await Promise.all(pids.map((p) => attributor.explainPid(p)));
    if (json) {
      writeJson(ctx.stdout, {
        sockets,
        processes: explained.map((e) => ({ principal: e.principal, match: e.match ? { via: e.match.via, chainIndex: e.match.chainIndex } : null })),
        inventory: inventory !== null,
      });
    } else {
      ctx.stdout.write(formatSockets(port ?? 0, sockets));
      for (const e of explained) ctx.stdout.write(`\n${formatPrincipal(e.principal, e.match, inventory !== null)}`);
    }
    return sockets.length > 0 ? 0 : 1;
  },
};

export const attributionCommands: readonly Command[] = [attributionCommand];

/** Human text for a principal: the chain in one line, then one block per process, then the agent. */
export function formatPrincipal(principal: Principal, match: AgentMatch | null, hadInventory: boolean): string {
  if (!principal.attributed) return `not attributed: ${principal.reason ?? 'unknown reason'}\n`;
  const out: string[] = [];
  out.push(`chain: ${principal.chain.map(shortName).join(' <- ')}`);
  for (const p of principal.chain) {
    out.push(`  ${String(p.pid).padStart(7)}  ${p.exe ?? '(executable unreadable)'}`);
    out.push(`           user ${p.user ?? (p.uid ?? '?')}  cwd ${p.cwd ?? '?'}${p.startTimeMs !== null ? `  started ${new Date(p.startTimeMs).toISOString()}` : ''}`);
    out.push(`           argv ${p.argv.map(quote).join(' ')}`);
  }
  if (principal.agent && match) {
    const a = principal.agent;
    const how = match.via.startsWith('known-') ? `by name only (${match.via}), not from the inventory` : `by ${match.via}, inventory id ${a.id}`;
    out.push(`agent: ${a.name} (${a.kind}), pid ${a.pid}, ${how}`);
  } else {
    out.push(`agent: none${hadInventory ? '' : ' (no inventory: only known executable names were checked)'}`);
  }
  return `${out.join('\n')}\n`;
}

function formatSockets(port: number, sockets: readonly LocalSocket[]): string {
  if (sockets.length === 0) return `no TCP socket uses local port ${port}\n`;
  const lines = sockets.map((s) => `  ${s.localAddress}:${s.localPort} -> ${s.remoteAddress}:${s.remotePort}  ${s.state}  pid ${s.pid ?? '? (not found or another user)'}`);
  return `TCP sockets on local port ${port}:\n${lines.join('\n')}\n`;
}

function shortName(p: ProcessInfo): string {
  const name = (p.exe ?? p.argv[0] ?? '?').split(/[\\/]/).pop() ?? '?';
  return `${name}(${p.pid})`;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function positiveInt(text: string, name: string, max: number): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`--${name} must be a number from 1 to ${max}`);
  return Number(text);
}
