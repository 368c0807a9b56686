/** Installed coding agents: CLIs, desktop apps and IDE extensions. */
import type { DiscoveryContext } from '../context.ts';
import type { AgentScanResult } from '../types.ts';

export async function scanAgents(_ctx: DiscoveryContext): Promise<AgentScanResult> {
  return { agents: [], errors: [], filesRead: 0, watchPaths: [] };
}
