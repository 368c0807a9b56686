/** What each half of a scan (agents, MCP servers) hands back to scan.ts. */
import type { AgentRecord, McpServerRecord, ScanError } from '../api/inventory.ts';

export type ScanPart = {
  errors: ScanError[];
  filesRead: number;
  /**
   * Every file the scan looked for (whether or not it exists) and every directory whose listing
   * mattered. The daemon watches exactly these, so a config created later is seen.
   */
  watchPaths: string[];
};

export type AgentScanResult = ScanPart & { agents: AgentRecord[] };

export type McpScanResult = ScanPart & { servers: McpServerRecord[]; projectsScanned: number };
