/**
 * Device inventories on the server: one row per agent and MCP server per device (so fleet-wide
 * questions are indexed queries), applied from snapshots or deltas in one transaction, with a
 * change log for "what is new or changed", and the fleet-wide counts (fleetSummary.ts). The digest (app/sync/inventoryHash.ts) decides whether
 * a delta applies to what the server holds.
 */
import type { AgentRecord, McpServerRecord } from '../../app/api/inventory.ts';
import type { DeviceState, InventoryAck } from '../../app/api/sync.ts';
import type { InventoryHost } from '../../app/api/inventory.ts';
import { inventoryDigest, recordHash } from '../../app/sync/inventoryHash.ts';
import { mcpPackageOf } from '../sync/mcpPackage.ts';
import type { SqlDriver, SqlExecutor } from './driver.ts';
import { applyGroupDelta, deviceGroups } from './fleetSummary.ts';

/** A validated upload, normalized: a snapshot replaces everything, a delta upserts and removes. */
export type InventoryChangeSet = Readonly<{
  kind: 'snapshot' | 'delta';
  state: DeviceState;
  host: InventoryHost;
  baseHash: string | null;
  claimedHash: string;
  agents: readonly AgentRecord[];
  mcpServers: readonly McpServerRecord[];
  removeAgents: readonly string[];
  removeMcpServers: readonly string[];
}>;

export type InventoryOutcome = { ok: true; ack: InventoryAck } | { ok: false; reason: 'snapshot-required'; serverHash: string | null };

export type Inventories = Readonly<{
  apply(deviceId: string, changes: InventoryChangeSet, now: number): Promise<InventoryOutcome>;
}>;

type Existing = { id: string; record_hash: string; name: string };
type Counts = { added: number; changed: number; removed: number };

class SnapshotRequired extends Error {}

const AGENT_COLUMNS = ['device_id', 'agent_id', 'kind', 'name', 'version', 'install_type', 'path', 'record_hash', 'body', 'first_seen_at', 'changed_at'];
const MCP_COLUMNS = [
  'device_id', 'server_id', 'client', 'name', 'name_lc', 'scope', 'transport', 'package', 'version', 'command', 'url', 'posture', 'enabled',
  'record_hash', 'body', 'first_seen_at', 'changed_at',
];
const CHANGE_COLUMNS = ['device_id', 'at', 'item', 'item_id', 'name', 'change', 'detail'];

export function createInventories(driver: SqlDriver): Inventories {
  const lock = driver.dialect === 'postgres' ? ' FOR UPDATE' : '';
  return {
    async apply(deviceId, changes, now) {
      try {
        return await driver.transaction(async (tx): Promise<InventoryOutcome> => {
          const device = await tx.get<{ inventory_hash: string | null }>(`SELECT inventory_hash FROM devices WHERE id = ?${lock}`, [deviceId]);
          if (!device) throw new Error(`device ${deviceId} vanished during inventory sync`);
          if (changes.kind === 'delta' && device.inventory_hash !== changes.baseHash) return { ok: false, reason: 'snapshot-required', serverHash: device.inventory_hash };
          const groupsBefore = await deviceGroups(tx, deviceId);
          const changeLog: (string | number | null)[][] = [];
          const agents = await applyItems(tx, {
            table: 'device_agents', idColumn: 'agent_id', item: 'agent', columns: AGENT_COLUMNS, deviceId, now, changeLog,
            records: changes.agents, remove: changes.removeAgents, replaceAll: changes.kind === 'snapshot',
            row: (a: AgentRecord, hash: string, firstSeen: number) => [deviceId, a.id, a.kind, a.name, a.version, a.installType, a.path, hash, JSON.stringify(a), firstSeen, now],
            label: (a: AgentRecord) => `${a.name}${a.version ? ` ${a.version}` : ''}`,
          });
          const servers = await applyItems(tx, {
            table: 'device_mcp_servers', idColumn: 'server_id', item: 'mcp-server', columns: MCP_COLUMNS, deviceId, now, changeLog,
            records: changes.mcpServers, remove: changes.removeMcpServers, replaceAll: changes.kind === 'snapshot',
            row: (m: McpServerRecord, hash: string, firstSeen: number) => {
              const pkg = mcpPackageOf(m);
              return [
                deviceId, m.id, m.client, m.name, m.name.toLowerCase(), m.scope, m.transport, pkg?.name ?? null, pkg?.version ?? null, m.command ?? null,
                m.url ?? m.remoteUrl ?? null, m.credential.posture, m.enabled ? 1 : 0, hash, JSON.stringify(m), firstSeen, now,
              ];
            },
            label: (m: McpServerRecord) => m.name,
          });
          if (changeLog.length > 0) await tx.insertMany('inventory_changes', CHANGE_COLUMNS, changeLog);
          const digest = inventoryDigest(agents.entries, servers.entries);
          // A delta that does not land on the state the device computed means the two sides
          // diverged: undo it and ask for a snapshot. A snapshot is taken as the truth.
          if (changes.kind === 'delta' && digest !== changes.claimedHash) throw new SnapshotRequired();
          await applyGroupDelta(tx, groupsBefore, await deviceGroups(tx, deviceId));
          const literal = await tx.get<{ n: number }>("SELECT count(*) AS n FROM device_mcp_servers WHERE device_id = ? AND posture = 'literal'", [deviceId]);
          const s = changes.state;
          await tx.run(
            `UPDATE devices SET inventory_hash = ?, inventory_at = ?, hostname = ?, hostname_lc = ?, platform = ?, os_user = ?, agent_version = ?, mode = ?,
               protection = ?, policy_version = ?, managed = ?, agents_count = ?, mcp_count = ?, literal_count = ?, last_seen_at = ? WHERE id = ?`,
            [
              digest, now, changes.host.hostname, changes.host.hostname.toLowerCase(), changes.host.platform, changes.host.user, s.agentVersion, s.mode,
              s.protection, s.policyVersion, s.managed ? JSON.stringify(s.managed) : null, agents.entries.length, servers.entries.length, literal?.n ?? 0, now, deviceId,
            ],
          );
          const sum = (k: keyof Counts): number => agents.counts[k] + servers.counts[k];
          return { ok: true, ack: { hash: digest, added: sum('added'), changed: sum('changed'), removed: sum('removed') } };
        });
      } catch (error) {
        if (error instanceof SnapshotRequired) return { ok: false, reason: 'snapshot-required', serverHash: null };
        throw error;
      }
    },
  };
}

type ItemSpec<R extends { id: string }> = Readonly<{
  table: string;
  idColumn: string;
  item: 'agent' | 'mcp-server';
  columns: readonly string[];
  deviceId: string;
  now: number;
  changeLog: (string | number | null)[][];
  records: readonly R[];
  remove: readonly string[];
  replaceAll: boolean;
  row(record: R, hash: string, firstSeen: number): (string | number | null)[];
  label(record: R): string;
}>;

/** Writes one item kind's changes; returns the resulting (id, hash) set and what changed. */
async function applyItems<R extends { id: string }>(tx: SqlExecutor, spec: ItemSpec<R>): Promise<{ entries: { id: string; hash: string }[]; counts: Counts }> {
  const existing = await tx.all<Existing & { first_seen_at: number }>(
    `SELECT ${spec.idColumn} AS id, record_hash, name, first_seen_at FROM ${spec.table} WHERE device_id = ?`,
    [spec.deviceId],
  );
  const current = new Map(existing.map((e) => [e.id, e]));
  const counts: Counts = { added: 0, changed: 0, removed: 0 };
  const result = new Map<string, string>(spec.replaceAll ? [] : existing.map((e) => [e.id, e.record_hash]));
  const removeIds = new Set(spec.remove);
  if (spec.replaceAll) {
    const incoming = new Set(spec.records.map((r) => r.id));
    for (const e of existing) if (!incoming.has(e.id)) removeIds.add(e.id);
  }
  const upserts: (string | number | null)[][] = [];
  for (const record of spec.records) {
    const hash = recordHash(record);
    const before = current.get(record.id);
    result.set(record.id, hash);
    removeIds.delete(record.id);
    if (before && before.record_hash === hash) continue;
    upserts.push(spec.row(record, hash, before?.first_seen_at ?? spec.now));
    if (before) counts.changed++;
    else counts.added++;
    spec.changeLog.push([spec.deviceId, spec.now, spec.item, record.id, spec.label(record).slice(0, 512), before ? 'changed' : 'added', null]);
  }
  for (const id of removeIds) {
    const before = current.get(id);
    result.delete(id);
    if (!before) continue;
    await tx.run(`DELETE FROM ${spec.table} WHERE device_id = ? AND ${spec.idColumn} = ?`, [spec.deviceId, id]);
    counts.removed++;
    spec.changeLog.push([spec.deviceId, spec.now, spec.item, id, before.name, 'removed', null]);
  }
  if (upserts.length > 0) {
    const updates = spec.columns.filter((c) => c !== 'device_id' && c !== spec.idColumn && c !== 'first_seen_at').map((c) => `${c} = excluded.${c}`);
    await tx.insertMany(spec.table, spec.columns, upserts, { onConflict: `ON CONFLICT (device_id, ${spec.idColumn}) DO UPDATE SET ${updates.join(', ')}` });
  }
  return { entries: [...result].map(([id, hash]) => ({ id, hash })), counts };
}
