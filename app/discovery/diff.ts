/**
 * What changed between two inventories: agents installed, upgraded or removed; MCP servers added,
 * removed or changed (a new fingerprint under the same id: new command, args or URL). Pure.
 */
import type { AgentRecord, Inventory, InventoryChange, McpServerRecord } from '../api/inventory.ts';

const AGENT_FIELDS = ['version', 'path', 'source', 'kind', 'name'] as const;
const SERVER_FIELDS = ['transport', 'command', 'args', 'url', 'envNames', 'headerNames', 'enabled', 'credential'] as const;

export function diffInventories(before: Inventory | null, after: Inventory): InventoryChange[] {
  const changes: InventoryChange[] = [];
  const oldAgents = byId(before?.agents ?? []);
  const newAgents = byId(after.agents);
  for (const [id, agent] of newAgents) {
    const old = oldAgents.get(id);
    if (!old) {
      changes.push({ type: 'agent.installed', id, summary: `${label(agent)} installed${agent.version ? ` (${agent.version})` : ''} at ${agent.path}`, after: agent });
    } else if (old.fingerprint !== agent.fingerprint) {
      const fields = changedFields(old, agent, AGENT_FIELDS);
      const upgraded = old.version !== agent.version;
      changes.push({
        type: upgraded ? 'agent.upgraded' : 'agent.changed',
        id,
        summary: upgraded ? `${label(agent)} ${old.version ?? 'unknown'} -> ${agent.version ?? 'unknown'}` : `${label(agent)} changed (${fields.join(', ')})`,
        before: old,
        after: agent,
        fields,
      });
    }
  }
  for (const [id, agent] of oldAgents) {
    if (!newAgents.has(id)) changes.push({ type: 'agent.removed', id, summary: `${label(agent)} removed from ${agent.path}`, before: agent });
  }

  const oldServers = byId(before?.mcpServers ?? []);
  const newServers = byId(after.mcpServers);
  for (const [id, server] of newServers) {
    const old = oldServers.get(id);
    if (!old) {
      changes.push({ type: 'server.added', id, summary: `MCP server '${server.name}' added to ${server.client} (${server.configPath})`, after: server });
    } else if (old.fingerprint !== server.fingerprint || old.enabled !== server.enabled || old.credential.posture !== server.credential.posture) {
      const fields = changedFields(old, server, SERVER_FIELDS);
      changes.push({
        type: 'server.changed',
        id,
        summary: `MCP server '${server.name}' in ${server.client} changed (${fields.join(', ') || 'definition'})`,
        before: old,
        after: server,
        fields,
      });
    }
  }
  for (const [id, server] of oldServers) {
    if (!newServers.has(id)) changes.push({ type: 'server.removed', id, summary: `MCP server '${server.name}' removed from ${server.client} (${server.configPath})`, before: server });
  }
  return changes;
}

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

function label(agent: AgentRecord): string {
  return agent.host ? `${agent.name} (${agent.host})` : agent.name;
}

function changedFields<T extends AgentRecord | McpServerRecord>(a: T, b: T, fields: readonly string[]): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return fields.filter((f) => JSON.stringify(ra[f]) !== JSON.stringify(rb[f]));
}
