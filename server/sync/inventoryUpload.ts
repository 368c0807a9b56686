/**
 * Validation of POST /v1/inventory bodies (snapshot or delta). The fields the server indexes are
 * checked strictly (types, enums, lengths); other record members are kept as sent, within a size
 * bound, so a newer inventory schema on the device does not break sync. Duplicate ids are refused.
 */
import type { AgentRecord, InventoryHost, McpServerRecord } from '../../app/api/inventory.ts';
import { SYNC_LIMITS, type DeviceManagedState, type DeviceState, type SyncProblem } from '../../app/api/sync.ts';
import type { InventoryChangeSet } from '../store/inventory.ts';
import { FieldChecker, ISO_TIME, isObject, type Json } from './fields.ts';

export type InventoryCheck = { ok: true; changes: InventoryChangeSet } | { ok: false; problems: SyncProblem[] };

const HEX64 = /^[0-9a-f]{64}$/;
const INSTALL_TYPES = ['cli', 'desktop-app', 'ide-extension'] as const;
const TRANSPORTS = ['stdio', 'http', 'sse', 'ws', 'unknown'] as const;
const SCOPES = ['user', 'project', 'local', 'managed', 'plugin', 'extension'] as const;
const POSTURES = ['none', 'reference', 'literal'] as const;
const PROTECTION = ['protected', 'degraded', 'unprotected', 'unknown'] as const;
const MAX_REMOVALS = 10_000;
const S = SYNC_LIMITS.maxShortString;
const L = SYNC_LIMITS.maxLongString;

export function checkInventoryUpload(body: unknown): InventoryCheck {
  const c = new FieldChecker();
  if (!isObject(body)) return { ok: false, problems: [{ field: '', message: 'the body must be a JSON object' }] };
  const kind = c.oneOf(body, 'kind', ['snapshot', 'delta'] as const);
  const state = checkState(body, c);
  if (kind === 'snapshot') {
    c.only(body, ['kind', 'state', 'inventory', 'hash']);
    const claimedHash = c.string(body, 'hash', { max: 64, pattern: HEX64 });
    const inv = c.object(body, 'inventory');
    if (!inv || !state || !claimedHash) return { ok: false, problems: c.problems };
    const ic = c.child('inventory.');
    if (inv.schemaVersion !== 1) ic.fail('schemaVersion', 'must be 1');
    ic.string(inv, 'scannedAt', { max: 40, pattern: ISO_TIME });
    const host = checkHost(inv, ic);
    const agents = checkList(inv, 'agents', SYNC_LIMITS.maxAgents, ic, checkAgent);
    const servers = checkList(inv, 'mcpServers', SYNC_LIMITS.maxMcpServers, ic, checkMcpServer);
    ic.array(inv, 'errors', { max: 100_000, optional: true });
    if (!c.ok || !host || !agents || !servers) return { ok: false, problems: c.problems };
    return { ok: true, changes: { kind, state, host, baseHash: null, claimedHash, agents, mcpServers: servers, removeAgents: [], removeMcpServers: [] } };
  }
  if (kind === 'delta') {
    c.only(body, ['kind', 'state', 'baseHash', 'hash', 'scannedAt', 'host', 'agents', 'mcpServers']);
    const baseHash = c.string(body, 'baseHash', { max: 64, pattern: HEX64 });
    const claimedHash = c.string(body, 'hash', { max: 64, pattern: HEX64 });
    c.string(body, 'scannedAt', { max: 40, pattern: ISO_TIME });
    const host = checkHost(body, c);
    const agents = checkDeltaPart(body, 'agents', SYNC_LIMITS.maxAgents, c, checkAgent);
    const servers = checkDeltaPart(body, 'mcpServers', SYNC_LIMITS.maxMcpServers, c, checkMcpServer);
    if (!c.ok || !state || !baseHash || !claimedHash || !host || !agents || !servers) return { ok: false, problems: c.problems };
    return {
      ok: true,
      changes: { kind, state, host, baseHash, claimedHash, agents: agents.upsert, mcpServers: servers.upsert, removeAgents: agents.remove, removeMcpServers: servers.remove },
    };
  }
  return { ok: false, problems: c.problems };
}

function checkState(body: Json, c: FieldChecker): DeviceState | null {
  const s = c.object(body, 'state');
  if (!s) return null;
  const sc = c.child('state.');
  sc.only(s, ['agentVersion', 'mode', 'protection', 'policyVersion', 'managed']);
  const agentVersion = sc.string(s, 'agentVersion', { max: 64, min: 1 });
  const mode = sc.oneOf(s, 'mode', ['monitor', 'enforce'] as const);
  const protection = sc.oneOf(s, 'protection', PROTECTION);
  const policyVersion = sc.integer(s, 'policyVersion', { min: 0, nullable: true });
  const managed = s.managed === undefined ? undefined : checkManaged(s, sc);
  if (agentVersion == null || !mode || !protection || policyVersion === undefined || managed === null) return null;
  return { agentVersion, mode, protection, policyVersion, ...(managed ? { managed } : {}) };
}

function checkManaged(state: Json, c: FieldChecker): DeviceManagedState | null {
  const m = c.object(state, 'managed');
  if (!m) return null;
  const mc = c.child('managed.');
  mc.only(m, ['enforced', 'defaults', 'source', 'fingerprint', 'problems']);
  const keys = (name: 'enforced' | 'defaults'): string[] | null => {
    const list = mc.strings(m, name, { max: 200, maxLength: 64 });
    if (list === undefined) return null;
    if (!list.every((k) => /^[A-Za-z][A-Za-z0-9]*$/.test(k))) return mc.fail(name, 'must be setting keys'), null;
    return list;
  };
  const enforced = keys('enforced');
  const defaults = keys('defaults');
  const source = mc.string(m, 'source', { max: L, nullable: true });
  const fingerprint = mc.string(m, 'fingerprint', { max: 64, nullable: true });
  const problems = mc.integer(m, 'problems', { min: 0, max: 10_000 });
  if (!enforced || !defaults || source === undefined || fingerprint === undefined || problems == null) return null;
  return { enforced, defaults, source, fingerprint, problems };
}

function checkHost(parent: Json, c: FieldChecker): InventoryHost | null {
  const h = c.object(parent, 'host');
  if (!h) return null;
  const hc = c.child('host.');
  const hostname = hc.string(h, 'hostname', { max: 253, min: 1 });
  const platform = hc.string(h, 'platform', { max: 32, min: 1 });
  const user = hc.string(h, 'user', { max: 256 });
  const home = hc.string(h, 'home', { max: L });
  if (hostname == null || platform == null || user == null || home == null) return null;
  return { hostname, platform, user, home };
}

function checkList<R extends { id: string }>(parent: Json, field: string, max: number, c: FieldChecker, check: (raw: unknown, c: FieldChecker) => R | null): R[] | null {
  const list = c.array(parent, field, { max });
  if (!list) return null;
  const out: R[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const rc = c.child(`${field}[${i}].`, i);
    const record = check(list[i], rc);
    if (!record) continue;
    if (ids.has(record.id)) rc.fail('id', 'appears twice');
    ids.add(record.id);
    out.push(record);
    if (!c.ok && c.problems.length >= 50) break;
  }
  return c.ok ? out : null;
}

function checkDeltaPart<R extends { id: string }>(body: Json, field: string, max: number, c: FieldChecker, check: (raw: unknown, c: FieldChecker) => R | null): { upsert: R[]; remove: string[] } | null {
  const part = c.object(body, field);
  if (!part) return null;
  const pc = c.child(`${field}.`);
  pc.only(part, ['upsert', 'remove']);
  const upsert = checkList(part, 'upsert', max, pc, check);
  const remove = pc.strings(part, 'remove', { max: MAX_REMOVALS, maxLength: SYNC_LIMITS.maxIdLength });
  if (!upsert || !remove) return null;
  return { upsert, remove };
}

function checkRecordSize(raw: Json, c: FieldChecker): boolean {
  if (JSON.stringify(raw).length > SYNC_LIMITS.maxRecordBytes) {
    c.fail('', `the record is larger than ${SYNC_LIMITS.maxRecordBytes} bytes`);
    return false;
  }
  return true;
}

function checkAgent(raw: unknown, c: FieldChecker): AgentRecord | null {
  if (!isObject(raw)) return c.fail('', 'must be an object'), null;
  if (!checkRecordSize(raw, c)) return null;
  const ok = [
    c.string(raw, 'id', { max: SYNC_LIMITS.maxIdLength, min: 1 }),
    c.string(raw, 'kind', { max: 128, min: 1 }),
    c.string(raw, 'name', { max: S, min: 1 }),
    c.oneOf(raw, 'installType', INSTALL_TYPES),
    c.string(raw, 'path', { max: L }),
    c.string(raw, 'source', { max: 128 }),
    c.string(raw, 'fingerprint', { max: 128 }),
  ].every((v) => v != null);
  const version = c.string(raw, 'version', { max: 128, nullable: true });
  c.string(raw, 'host', { max: 128, optional: true });
  c.string(raw, 'extensionId', { max: SYNC_LIMITS.maxIdLength, optional: true });
  return ok && version !== undefined && c.ok ? (raw as AgentRecord) : null;
}

function checkMcpServer(raw: unknown, c: FieldChecker): McpServerRecord | null {
  if (!isObject(raw)) return c.fail('', 'must be an object'), null;
  if (!checkRecordSize(raw, c)) return null;
  const ok = [
    c.string(raw, 'id', { max: SYNC_LIMITS.maxIdLength, min: 1 }),
    c.string(raw, 'client', { max: 128, min: 1 }),
    c.string(raw, 'configPath', { max: L }),
    c.oneOf(raw, 'scope', SCOPES),
    c.string(raw, 'name', { max: S, min: 1 }),
    c.oneOf(raw, 'transport', TRANSPORTS),
    c.strings(raw, 'envNames', { max: 500, maxLength: S }),
    c.strings(raw, 'headerNames', { max: 500, maxLength: S }),
    c.boolean(raw, 'enabled'),
    c.string(raw, 'fingerprint', { max: 128 }),
  ].every((v) => v != null);
  const project = c.string(raw, 'project', { max: L, nullable: true });
  c.string(raw, 'command', { max: L, optional: true });
  c.strings(raw, 'args', { max: 500, maxLength: L, optional: true });
  c.string(raw, 'url', { max: L, optional: true });
  c.string(raw, 'remoteUrl', { max: L, optional: true });
  const credential = c.object(raw, 'credential');
  if (credential) {
    const cc = c.child('credential.');
    cc.oneOf(credential, 'posture', POSTURES);
    const findings = cc.array(credential, 'findings', { max: 500 });
    if (findings && !findings.every(isObject)) cc.fail('findings', 'must be objects');
  }
  return ok && project !== undefined && c.ok ? (raw as McpServerRecord) : null;
}
