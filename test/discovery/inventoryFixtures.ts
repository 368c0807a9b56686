/** Small hand-made inventory records for tests of code that consumes inventories. */
import type { AgentRecord, Inventory, McpServerRecord } from '../../app/api/inventory.ts';

export function server(name: string, overrides: Partial<McpServerRecord> = {}): McpServerRecord {
  return {
    id: `mcp_${name}`,
    client: 'cursor',
    configPath: '/home/u/.cursor/mcp.json',
    scope: 'user',
    project: null,
    name,
    transport: 'stdio',
    command: 'npx',
    args: ['-y', `@example/${name}`],
    envNames: [],
    headerNames: [],
    credential: { posture: 'none', findings: [] },
    enabled: true,
    fingerprint: `fp-${name}`,
    ...overrides,
  };
}

export function agent(kind: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    id: `agent_${kind}`,
    kind,
    name: kind,
    installType: 'cli',
    version: '1.0.0',
    path: `/usr/local/bin/${kind}`,
    source: 'npm-global',
    fingerprint: `fp-${kind}-1.0.0`,
    ...overrides,
  };
}

export function inventoryOf(agents: AgentRecord[], servers: McpServerRecord[]): Inventory {
  return {
    schemaVersion: 1,
    scannedAt: '2026-11-21T00:00:00.000Z',
    host: { hostname: 'h', platform: 'linux', user: 'u', home: '/home/u' },
    agents,
    mcpServers: servers,
    errors: [],
    stats: { durationMs: 1, filesRead: 1, projectsScanned: 0 },
  };
}
