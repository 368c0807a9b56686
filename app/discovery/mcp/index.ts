/** MCP server configs of every client, user and project scope. */
import type { DiscoveryContext } from '../context.ts';
import type { McpScanResult } from '../types.ts';

export async function scanMcpServers(_ctx: DiscoveryContext): Promise<McpScanResult> {
  return { servers: [], errors: [], filesRead: 0, watchPaths: [], projectsScanned: 0 };
}
