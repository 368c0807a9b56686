/**
 * Fleet-wide counts kept up to date as inventories change: how many (non-revoked) devices run
 * each agent kind and version, and each MCP server (name, package, version, transport, URL), and
 * on how many of them it holds a literal secret. The console's "across the fleet" views read these
 * small tables instead of aggregating every device's rows, so they stay fast at any fleet size.
 */
import { createHash } from 'node:crypto';
import type { SqlExecutor } from './driver.ts';

type McpGroup = { name: string; name_lc: string; package: string | null; version: string | null; transport: string; url: string | null; literal: boolean };
type AgentGroup = { kind: string; name: string; version: string | null };

/** One device's contribution: each group it is in, once. */
export type DeviceGroups = Readonly<{ mcp: ReadonlyMap<string, McpGroup>; agents: ReadonlyMap<string, AgentGroup> }>;

export const NO_GROUPS: DeviceGroups = { mcp: new Map(), agents: new Map() };

/** The groups a device is in now (read inside the transaction that changes it). */
export async function deviceGroups(tx: SqlExecutor, deviceId: string): Promise<DeviceGroups> {
  const mcp = new Map<string, McpGroup>();
  const servers = await tx.all<Omit<McpGroup, 'literal'> & { posture: string }>(
    'SELECT name, name_lc, package, version, transport, url, posture FROM device_mcp_servers WHERE device_id = ?',
    [deviceId],
  );
  for (const s of servers) {
    const key = mcpKey(s);
    const known = mcp.get(key);
    const literal = s.posture === 'literal' || (known?.literal ?? false);
    mcp.set(key, { name: known?.name ?? s.name, name_lc: s.name_lc, package: s.package, version: s.version, transport: s.transport, url: s.url, literal });
  }
  const agents = new Map<string, AgentGroup>();
  for (const a of await tx.all<AgentGroup>('SELECT kind, name, version FROM device_agents WHERE device_id = ?', [deviceId])) {
    agents.set(agentKey(a), { kind: a.kind, name: a.name, version: a.version });
  }
  return { mcp, agents };
}

/** Moves one device's counts from `before` to `after`. Keys are updated in sorted order (no deadlocks between writers). */
export async function applyGroupDelta(tx: SqlExecutor, before: DeviceGroups, after: DeviceGroups): Promise<void> {
  const mcpKeys = [...new Set([...before.mcp.keys(), ...after.mcp.keys()])].sort();
  for (const key of mcpKeys) {
    const b = before.mcp.get(key);
    const a = after.mcp.get(key);
    const devices = (a ? 1 : 0) - (b ? 1 : 0);
    const literal = (a?.literal ? 1 : 0) - (b?.literal ? 1 : 0);
    if (devices === 0 && literal === 0) continue;
    const g = (a ?? b) as McpGroup;
    await tx.run(
      `INSERT INTO fleet_mcp_groups (group_key, name, name_lc, package, version, transport, url, devices, literal_devices) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_key) DO UPDATE SET devices = fleet_mcp_groups.devices + excluded.devices, literal_devices = fleet_mcp_groups.literal_devices + excluded.literal_devices`,
      [key, g.name, g.name_lc, g.package, g.version, g.transport, g.url, devices, literal],
    );
    if (devices < 0) await tx.run('DELETE FROM fleet_mcp_groups WHERE group_key = ? AND devices <= 0', [key]);
  }
  const agentKeys = [...new Set([...before.agents.keys(), ...after.agents.keys()])].sort();
  for (const key of agentKeys) {
    const devices = (after.agents.has(key) ? 1 : 0) - (before.agents.has(key) ? 1 : 0);
    if (devices === 0) continue;
    const g = (after.agents.get(key) ?? before.agents.get(key)) as AgentGroup;
    await tx.run(
      `INSERT INTO fleet_agent_groups (group_key, kind, name, version, devices) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (group_key) DO UPDATE SET devices = fleet_agent_groups.devices + excluded.devices`,
      [key, g.kind, g.name, g.version, devices],
    );
    if (devices < 0) await tx.run('DELETE FROM fleet_agent_groups WHERE group_key = ? AND devices <= 0', [key]);
  }
}

function mcpKey(g: Pick<McpGroup, 'name_lc' | 'package' | 'version' | 'transport' | 'url'>): string {
  return createHash('sha256').update(JSON.stringify([g.name_lc, g.package, g.version, g.transport, g.url])).digest('base64url');
}

function agentKey(g: AgentGroup): string {
  return createHash('sha256').update(JSON.stringify([g.kind, g.name, g.version])).digest('base64url');
}
