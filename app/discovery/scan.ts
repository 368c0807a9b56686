/**
 * A full inventory scan: agents and MCP servers, with every unreadable file reported beside the
 * good entries. Pure reads; no writes, no network.
 */
import { hostname, userInfo } from 'node:os';
import { INVENTORY_SCHEMA_VERSION, type Inventory } from '../api/inventory.ts';
import { discoveryContext, type DiscoveryContextInput } from './context.ts';
import { scanAgents } from './agents/index.ts';
import { scanMcpServers } from './mcp/index.ts';

export async function scan(input: DiscoveryContextInput = {}): Promise<Inventory> {
  return (await scanWithWatchPaths(input)).inventory;
}

/** The scan plus the paths it looked at, which the daemon's watcher follows. */
export async function scanWithWatchPaths(input: DiscoveryContextInput = {}): Promise<{ inventory: Inventory; watchPaths: string[] }> {
  const ctx = discoveryContext(input);
  const started = performance.now();
  const [agents, mcp] = await Promise.all([scanAgents(ctx), scanMcpServers(ctx)]);
  const inventory: Inventory = {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    scannedAt: new Date().toISOString(),
    host: { hostname: hostname(), platform: ctx.platform, user: safeUser(), home: ctx.home },
    agents: agents.agents,
    mcpServers: mcp.servers,
    errors: [...agents.errors, ...mcp.errors],
    stats: {
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      filesRead: agents.filesRead + mcp.filesRead,
      projectsScanned: mcp.projectsScanned,
    },
  };
  return { inventory, watchPaths: [...new Set([...agents.watchPaths, ...mcp.watchPaths])] };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
