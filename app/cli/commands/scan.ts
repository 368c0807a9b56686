/** `cordon scan`: print the inventory of coding agents and MCP servers on this machine. */
import { resolve } from 'node:path';
import type { Inventory } from '../../api/inventory.ts';
import { scan } from '../../discovery/scan.ts';
import { flag, stringOption, writeJson, type Command } from '../command.ts';

const scanCommand: Command = {
  name: 'scan',
  summary: 'scan this machine for coding agents and MCP servers and print the inventory',
  usage: '[--json] [--home DIR] [--project DIR]...',
  options: { json: { type: 'boolean' }, home: { type: 'string' }, project: { type: 'string', multiple: true } },
  async run(ctx, args) {
    const home = stringOption(args, 'home');
    const projects = ((args.values.project as string[] | undefined) ?? []).map((p) => resolve(ctx.cwd, p));
    const inventory = await scan({
      ...(home ? { home: resolve(ctx.cwd, home), env: { PATH: ctx.env.PATH } } : {}),
      projectRoots: projects,
    });
    if (flag(args, 'json')) writeJson(ctx.stdout, inventory);
    else ctx.stdout.write(formatInventory(inventory));
    return 0;
  },
};

export const scanCommands: readonly Command[] = [scanCommand];

export function formatInventory(inv: Inventory): string {
  const out: string[] = [];
  out.push(`Agents (${inv.agents.length})`);
  for (const a of [...inv.agents].sort((x, y) => x.name.localeCompare(y.name))) {
    out.push(`  ${a.name}${a.host ? ` [${a.host}]` : ''}  ${a.version ?? 'version unknown'}  ${a.installType}  ${a.path}`);
  }
  out.push('', `MCP servers (${inv.mcpServers.length})`);
  for (const s of [...inv.mcpServers].sort((x, y) => x.client.localeCompare(y.client) || x.name.localeCompare(y.name))) {
    const target = s.transport === 'stdio' ? [s.command, ...(s.args ?? [])].filter(Boolean).join(' ') : (s.url ?? '');
    const cred = s.credential.posture === 'literal' ? '  LITERAL SECRET' : s.credential.posture === 'reference' ? '  credential by reference' : '';
    out.push(`  ${s.client} ${s.scope}${s.project ? ` (${s.project})` : ''}: ${s.name}  ${s.transport}  ${target}${s.enabled ? '' : '  (disabled)'}${cred}`);
  }
  if (inv.errors.length > 0) {
    out.push('', `Unreadable (${inv.errors.length})`);
    for (const e of inv.errors) out.push(`  ${e.category}: ${e.path}${e.entry ? ` [${e.entry}]` : ''}: ${e.message}`);
  }
  out.push('', `Scanned in ${inv.stats.durationMs} ms (${inv.stats.filesRead} files, ${inv.stats.projectsScanned} projects)`);
  return `${out.join('\n')}\n`;
}
