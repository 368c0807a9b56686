/**
 * The console's read side: devices, agents and MCP servers across the fleet, new and changed
 * items, and audit search. Every query is bounded (limit, keyset cursor) and uses an index, so it
 * stays fast at 10,000 devices. Filters arrive validated (server/admin/filters.ts).
 */
import type { AgentRecord } from '../../app/api/inventory.ts';
import type {
  DeviceDetail,
  DeviceManagedState,
  DeviceSummary,
  FleetAgentGroup,
  FleetAuditEvent,
  FleetChange,
  FleetMcpGroup,
  FleetMcpInstance,
  Page,
} from '../../app/api/sync.ts';
import { iso } from './credentials.ts';
import { likeContains, type SqlDriver, type SqlValue } from './driver.ts';

export type DeviceFilter = Readonly<{ q?: string; platform?: string; mode?: string; protection?: string; status?: 'active' | 'revoked' | 'all'; seenSince?: number; limit: number; cursor?: string }>;
export type AgentFilter = Readonly<{ kind?: string; q?: string; limit: number; cursor?: string }>;
export type McpFilter = Readonly<{ q?: string; name?: string; package?: string; version?: string; posture?: string; transport?: string; deviceId?: string; changedSince?: number; limit: number; cursor?: string }>;
export type ChangeFilter = Readonly<{ since?: number; deviceId?: string; item?: 'agent' | 'mcp-server'; limit: number; cursor?: string }>;
export type AuditFilter = Readonly<{ deviceId?: string; agent?: string; host?: string; decision?: string; type?: string; since?: number; until?: number; limit: number; cursor?: string }>;


export type FleetQueries = Readonly<{
  devices(filter: DeviceFilter): Promise<Page<DeviceSummary>>;
  device(id: string): Promise<DeviceDetail | null>;
  agents(filter: AgentFilter): Promise<Page<FleetAgentGroup>>;
  mcpServers(filter: McpFilter): Promise<Page<FleetMcpGroup>>;
  mcpInstances(filter: McpFilter): Promise<Page<FleetMcpInstance>>;
  changes(filter: ChangeFilter): Promise<Page<FleetChange>>;
  audit(filter: AuditFilter): Promise<Page<FleetAuditEvent>>;
}>;

type DeviceRow = {
  id: string; hostname: string; hostname_lc: string; platform: string; os_user: string; agent_version: string; mode: string | null; protection: string | null;
  policy_version: number | null; managed: string | null; enrolled_at: number; last_seen_at: number | null; revoked_at: number | null; rekey_requested_at: number | null;
  jkt: string; agents_count: number; mcp_count: number; literal_count: number; cursor: number; head_seq: number | null; head_hash: string | null; chain_problems: number;
};
type McpRow = {
  device_id: string; hostname: string; os_user: string; server_id: string; name: string; client: string; scope: string; transport: string;
  package: string | null; version: string | null; command: string | null; url: string | null; posture: string; enabled: number; first_seen_at: number; changed_at: number;
};
type EventRow = {
  row_id: number; device_id: string; hostname: string; event_id: string; seq: number; time: string; time_ms: number; type: string; subject_id: string | null;
  summary: string; data: string; agent: string | null; agent_kind: string | null; decision: string | null; rule: string | null; host: string | null;
  port: number | null; method: string | null; path: string | null; bytes_up: number | null; bytes_down: number | null; key_thumbprint: string | null;
  prev_hash: string; hash: string; received_at: number;
};

const DEVICE_COLUMNS = `id, hostname, hostname_lc, platform, os_user, agent_version, mode, protection, policy_version, managed, enrolled_at, last_seen_at, revoked_at,
  rekey_requested_at, jkt, agents_count, mcp_count, literal_count, cursor, head_seq, head_hash, chain_problems`;
const MCP_COLUMNS = `m.device_id, d.hostname, d.os_user, m.server_id, m.name, m.client, m.scope, m.transport, m.package, m.version, m.command, m.url,
  m.posture, m.enabled, m.first_seen_at, m.changed_at`;

export function createFleetQueries(driver: SqlDriver): FleetQueries {
  const timed = async <T>(fn: () => Promise<{ items: T[]; nextCursor: string | null }>): Promise<Page<T>> => {
    const started = performance.now();
    const page = await fn();
    return { ...page, tookMs: Math.round((performance.now() - started) * 100) / 100 };
  };

  const mcpWhere = (f: McpFilter): { where: string[]; params: SqlValue[] } => {
    const where = ['d.revoked_at IS NULL'];
    const params: SqlValue[] = [];
    if (f.q) {
      where.push("(m.name_lc LIKE ? ESCAPE '\\' OR m.package LIKE ? ESCAPE '\\' OR lower(m.url) LIKE ? ESCAPE '\\')");
      params.push(likeContains(f.q), likeContains(f.q), likeContains(f.q));
    }
    if (f.name) { where.push('m.name_lc = ?'); params.push(f.name.toLowerCase()); }
    if (f.package) { where.push('m.package = ?'); params.push(f.package.toLowerCase()); }
    if (f.version) { where.push('m.version = ?'); params.push(f.version); }
    if (f.posture) { where.push('m.posture = ?'); params.push(f.posture); }
    if (f.transport) { where.push('m.transport = ?'); params.push(f.transport); }
    if (f.deviceId) { where.push('m.device_id = ?'); params.push(f.deviceId); }
    if (f.changedSince !== undefined) { where.push('m.changed_at >= ?'); params.push(f.changedSince); }
    return { where, params };
  };

  return {
    devices: (f) =>
      timed(async () => {
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (f.status !== 'all') where.push(f.status === 'revoked' ? 'revoked_at IS NOT NULL' : 'revoked_at IS NULL');
        if (f.q) {
          where.push("(hostname_lc LIKE ? ESCAPE '\\' OR lower(os_user) LIKE ? ESCAPE '\\' OR id = ?)");
          params.push(likeContains(f.q), likeContains(f.q), f.q);
        }
        if (f.platform) { where.push('platform = ?'); params.push(f.platform); }
        if (f.mode) { where.push('mode = ?'); params.push(f.mode); }
        if (f.protection) { where.push('protection = ?'); params.push(f.protection); }
        if (f.seenSince !== undefined) { where.push('last_seen_at >= ?'); params.push(f.seenSince); }
        const after = splitCursor(f.cursor);
        if (after) { where.push('(hostname_lc > ? OR (hostname_lc = ? AND id > ?))'); params.push(after[0], after[0], after[1]); }
        const rows = await driver.all<DeviceRow>(
          `SELECT ${DEVICE_COLUMNS} FROM devices ${whereSql(where)} ORDER BY hostname_lc, id LIMIT ?`,
          [...params, f.limit + 1],
        );
        return paged(rows, f.limit, toDevice, (r) => joinCursor(r.hostname_lc, r.id));
      }),
    async device(id) {
      const row = await driver.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, [id]);
      if (!row) return null;
      const agents = await driver.all<{ body: string }>('SELECT body FROM device_agents WHERE device_id = ? ORDER BY kind, agent_id', [id]);
      const servers = await driver.all<McpRow>(`SELECT ${MCP_COLUMNS} FROM device_mcp_servers m JOIN devices d ON d.id = m.device_id WHERE m.device_id = ? ORDER BY m.name_lc, m.server_id`, [id]);
      const gaps = await driver.all<{ from_seq: number; to_seq: number; recorded_at: number }>('SELECT from_seq, to_seq, recorded_at FROM device_gaps WHERE device_id = ? ORDER BY id', [id]);
      return {
        device: toDevice(row),
        agents: agents.map((a) => JSON.parse(a.body) as AgentRecord),
        mcpServers: servers.map(toMcpInstance),
        gaps: gaps.map((g) => ({ fromSeq: g.from_seq, toSeq: g.to_seq, recordedAt: iso(g.recorded_at) })),
      };
    },
    agents: (f) =>
      timed(async () => {
        // From the maintained counts (fleetSummary.ts): no scan of every device's agents.
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (f.kind) { where.push('kind = ?'); params.push(f.kind); }
        if (f.q) { where.push("(lower(name) LIKE ? ESCAPE '\\' OR kind LIKE ? ESCAPE '\\')"); params.push(likeContains(f.q), likeContains(f.q)); }
        groupAfter(f.cursor, where, params);
        const rows = await driver.all<FleetAgentGroup & { group_key: string }>(
          `SELECT group_key, kind, name, version, devices FROM fleet_agent_groups ${whereSql(where)} ORDER BY devices DESC, group_key LIMIT ?`,
          [...params, f.limit + 1],
        );
        return paged(rows, f.limit, ({ group_key: _key, ...g }) => g, groupCursor);
      }),
    mcpServers: (f) =>
      timed(async () => {
        if (f.deviceId === undefined && f.changedSince === undefined && (f.posture === undefined || f.posture === 'literal')) {
          // Group-level filters only: answer from the maintained counts (fleetSummary.ts).
          const where: string[] = [];
          const params: SqlValue[] = [];
          if (f.q) {
            where.push("(name_lc LIKE ? ESCAPE '\\' OR package LIKE ? ESCAPE '\\' OR lower(url) LIKE ? ESCAPE '\\')");
            params.push(likeContains(f.q), likeContains(f.q), likeContains(f.q));
          }
          if (f.name) { where.push('name_lc = ?'); params.push(f.name.toLowerCase()); }
          if (f.package) { where.push('package = ?'); params.push(f.package.toLowerCase()); }
          if (f.version) { where.push('version = ?'); params.push(f.version); }
          if (f.transport) { where.push('transport = ?'); params.push(f.transport); }
          if (f.posture === 'literal') where.push('literal_devices > 0');
          groupAfter(f.cursor, where, params);
          const rows = await driver.all<{ group_key: string; name: string; package: string | null; version: string | null; transport: string; url: string | null; devices: number; literal_devices: number }>(
            `SELECT group_key, name, package, version, transport, url, devices, literal_devices FROM fleet_mcp_groups ${whereSql(where)} ORDER BY devices DESC, group_key LIMIT ?`,
            [...params, f.limit + 1],
          );
          return paged(rows, f.limit, ({ literal_devices, group_key: _key, ...r }) => ({ ...r, literalDevices: literal_devices }), groupCursor);
        }
        // Per-device filters group live rows: one bounded page, no cursor (the filters narrow it).
        if (f.cursor !== undefined) throw new InvalidCursor();
        const { where, params } = mcpWhere(f);
        const rows = await driver.all<{ name: string; package: string | null; version: string | null; transport: string; url: string | null; devices: number; literal_devices: number }>(
          `SELECT min(m.name) AS name, m.package, m.version, m.transport, m.url, count(DISTINCT m.device_id) AS devices,
             count(DISTINCT CASE WHEN m.posture = 'literal' THEN m.device_id END) AS literal_devices
           FROM device_mcp_servers m JOIN devices d ON d.id = m.device_id ${whereSql(where)}
           GROUP BY m.name_lc, m.package, m.version, m.transport, m.url ORDER BY devices DESC, name LIMIT ?`,
          [...params, f.limit],
        );
        return { items: rows.map(({ literal_devices, ...r }) => ({ ...r, literalDevices: literal_devices })), nextCursor: null };
      }),
    mcpInstances: (f) =>
      timed(async () => {
        const { where, params } = mcpWhere(f);
        const after = splitCursor(f.cursor);
        if (after) { where.push('(m.device_id > ? OR (m.device_id = ? AND m.server_id > ?))'); params.push(after[0], after[0], after[1]); }
        const rows = await driver.all<McpRow>(
          `SELECT ${MCP_COLUMNS} FROM device_mcp_servers m JOIN devices d ON d.id = m.device_id ${whereSql(where)} ORDER BY m.device_id, m.server_id LIMIT ?`,
          [...params, f.limit + 1],
        );
        return paged(rows, f.limit, toMcpInstance, (r) => joinCursor(r.device_id, r.server_id));
      }),
    changes: (f) =>
      timed(async () => {
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (f.since !== undefined) { where.push('c.at >= ?'); params.push(f.since); }
        if (f.deviceId) { where.push('c.device_id = ?'); params.push(f.deviceId); }
        if (f.item) { where.push('c.item = ?'); params.push(f.item); }
        if (f.cursor !== undefined) { where.push('c.id < ?'); params.push(numericCursor(f.cursor)); }
        const rows = await driver.all<{ id: number; at: number; device_id: string; hostname: string; item: 'agent' | 'mcp-server'; item_id: string; name: string; change: FleetChange['change']; detail: string | null }>(
          `SELECT c.id, c.at, c.device_id, d.hostname, c.item, c.item_id, c.name, c.change, c.detail FROM inventory_changes c JOIN devices d ON d.id = c.device_id
           ${whereSql(where)} ORDER BY c.id DESC LIMIT ?`,
          [...params, f.limit + 1],
        );
        return paged(rows, f.limit, (r) => ({ at: iso(r.at), deviceId: r.device_id, hostname: r.hostname, item: r.item, itemId: r.item_id, name: r.name, change: r.change, detail: r.detail }), (r) => String(r.id));
      }),
    audit: (f) =>
      timed(async () => {
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (f.deviceId) { where.push('e.device_id = ?'); params.push(f.deviceId); }
        if (f.agent) { where.push('(e.agent_kind = ? OR e.agent = ?)'); params.push(f.agent, f.agent); }
        if (f.host) { where.push('e.host = ?'); params.push(f.host.toLowerCase()); }
        if (f.decision) { where.push('e.decision = ?'); params.push(f.decision); }
        if (f.type) { where.push('e.type = ?'); params.push(f.type); }
        if (f.since !== undefined) { where.push('e.time_ms >= ?'); params.push(f.since); }
        if (f.until !== undefined) { where.push('e.time_ms < ?'); params.push(f.until); }
        const after = splitCursor(f.cursor);
        if (after) {
          where.push('(e.time_ms < ? OR (e.time_ms = ? AND e.row_id < ?))');
          params.push(Number(after[0]), Number(after[0]), Number(after[1]));
        }
        const rows = await driver.all<EventRow>(
          `SELECT e.*, d.hostname FROM events e JOIN devices d ON d.id = e.device_id ${whereSql(where)} ORDER BY e.time_ms DESC, e.row_id DESC LIMIT ?`,
          [...params, f.limit + 1],
        );
        return paged(rows, f.limit, toAuditEvent, (r) => joinCursor(String(r.time_ms), String(r.row_id)));
      }),
  };
}

/** Groups come most-used first; the cursor is the last group's (devices, group_key). */
function groupCursor(row: { devices: number; group_key: string }): string {
  return joinCursor(String(row.devices), row.group_key);
}

function groupAfter(cursor: string | undefined, where: string[], params: SqlValue[]): void {
  const after = splitCursor(cursor);
  if (after === null) return;
  const devices = numericCursor(after[0]);
  where.push('(devices < ? OR (devices = ? AND group_key > ?))');
  params.push(devices, devices, after[1]);
}

function whereSql(where: readonly string[]): string {
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

function paged<R, T>(rows: R[], limit: number, map: (row: R) => T, cursorOf: (row: R) => string): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept.at(-1);
  return { items: kept.map(map), nextCursor: more && last !== undefined ? cursorOf(last) : null };
}

/** Cursors are opaque to clients: two parts, base64url-encoded. */
function joinCursor(a: string, b: string): string {
  return Buffer.from(JSON.stringify([a, b])).toString('base64url');
}

function splitCursor(cursor: string | undefined): [string, string] | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through: a bad cursor is a bad request
  }
  throw new InvalidCursor();
}

function numericCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidCursor();
  return Number(cursor);
}

/** A cursor the server did not hand out: the admin API answers 400. */
export class InvalidCursor extends Error {
  constructor() {
    super('cursor is not one this server handed out');
    this.name = 'InvalidCursor';
  }
}

function toDevice(r: DeviceRow): DeviceSummary {
  return {
    id: r.id, hostname: r.hostname, platform: r.platform, user: r.os_user, agentVersion: r.agent_version, mode: r.mode, protection: r.protection,
    policyVersion: r.policy_version, managed: parseManaged(r.managed), enrolledAt: iso(r.enrolled_at), lastSeenAt: r.last_seen_at === null ? null : iso(r.last_seen_at),
    revokedAt: r.revoked_at === null ? null : iso(r.revoked_at), rekeyRequested: r.rekey_requested_at !== null, keyThumbprint: r.jkt,
    agents: r.agents_count, mcpServers: r.mcp_count, literalSecrets: r.literal_count, cursor: r.cursor, headSeq: r.head_seq, headHash: r.head_hash,
    chainProblems: r.chain_problems,
  };
}

function parseManaged(text: string | null): DeviceManagedState | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as DeviceManagedState;
  } catch {
    return null;
  }
}

function toMcpInstance(r: McpRow): FleetMcpInstance {
  return {
    deviceId: r.device_id, hostname: r.hostname, user: r.os_user, serverId: r.server_id, name: r.name, client: r.client, scope: r.scope, transport: r.transport,
    package: r.package, version: r.version, command: r.command, url: r.url, posture: r.posture, enabled: r.enabled === 1,
    firstSeenAt: iso(r.first_seen_at), changedAt: iso(r.changed_at),
  };
}

function toAuditEvent(r: EventRow): FleetAuditEvent {
  let data: unknown;
  try {
    data = JSON.parse(r.data);
  } catch {
    data = null;
  }
  return {
    deviceId: r.device_id, hostname: r.hostname, receivedAt: iso(r.received_at), seq: r.seq, id: r.event_id, time: r.time, type: r.type,
    subjectId: r.subject_id, summary: r.summary, data, agent: r.agent, agentKind: r.agent_kind, decision: r.decision as FleetAuditEvent['decision'],
    rule: r.rule, destination: r.host === null ? null : { host: r.host, port: r.port, method: r.method, path: r.path }, bytesUp: r.bytes_up,
    bytesDown: r.bytes_down, keyThumbprint: r.key_thumbprint, prevHash: r.prev_hash, hash: r.hash,
  };
}
