/**
 * Building the inventory upload: the daemon's inventory trimmed to the protocol's bounds, then a
 * delta against what the server last acknowledged (when it holds the same base) or a snapshot.
 * Both sides compute the same digest (inventoryHash.ts), so a delta that does not land is detected.
 */
import type { AgentRecord, Inventory, McpServerRecord } from '../api/inventory.ts';
import { SYNC_LIMITS, type DeviceState, type InventoryUpload } from '../api/sync.ts';
import { digestOfRecords, recordHash } from './inventoryHash.ts';

/** What the server last acknowledged: its digest and the records it was computed from. */
export type SentInventory = Readonly<{ hash: string; agents: readonly AgentRecord[]; mcpServers: readonly McpServerRecord[] }>;

export type PreparedInventory = Readonly<{ agents: AgentRecord[]; mcpServers: McpServerRecord[]; hash: string; trimmed: number }>;

const MAX_ERRORS = 1000;

/** The records that fit the protocol (count and size bounds); `trimmed` counts what was left out. */
export function prepareInventory(inventory: Inventory): PreparedInventory {
  let trimmed = 0;
  const fits = (record: unknown): boolean => {
    const ok = JSON.stringify(record).length <= SYNC_LIMITS.maxRecordBytes;
    if (!ok) trimmed++;
    return ok;
  };
  const agents = inventory.agents.filter(fits);
  const mcpServers = inventory.mcpServers.filter(fits);
  trimmed += Math.max(0, agents.length - SYNC_LIMITS.maxAgents) + Math.max(0, mcpServers.length - SYNC_LIMITS.maxMcpServers);
  const keptAgents = unique(agents).slice(0, SYNC_LIMITS.maxAgents);
  const keptServers = unique(mcpServers).slice(0, SYNC_LIMITS.maxMcpServers);
  return { agents: keptAgents, mcpServers: keptServers, hash: digestOfRecords(keptAgents, keptServers), trimmed };
}

/** A delta when the last acknowledged inventory is known, else a snapshot. */
export function buildUpload(inventory: Inventory, prepared: PreparedInventory, state: DeviceState, sent: SentInventory | null): InventoryUpload {
  if (!sent) {
    return {
      kind: 'snapshot', state, hash: prepared.hash,
      inventory: { ...inventory, agents: prepared.agents, mcpServers: prepared.mcpServers, errors: inventory.errors.slice(0, MAX_ERRORS) },
    };
  }
  return {
    kind: 'delta', state, baseHash: sent.hash, hash: prepared.hash, scannedAt: inventory.scannedAt, host: inventory.host,
    agents: diff(sent.agents, prepared.agents),
    mcpServers: diff(sent.mcpServers, prepared.mcpServers),
  };
}

function diff<R extends { id: string }>(before: readonly R[], after: readonly R[]): { upsert: R[]; remove: string[] } {
  const old = new Map(before.map((r) => [r.id, recordHash(r)]));
  const upsert = after.filter((r) => old.get(r.id) !== recordHash(r));
  const ids = new Set(after.map((r) => r.id));
  return { upsert, remove: [...old.keys()].filter((id) => !ids.has(id)) };
}

/** First record per id (the server refuses duplicates). */
function unique<R extends { id: string }>(records: readonly R[]): R[] {
  const seen = new Set<string>();
  return records.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}
