/**
 * The inventory digest both ends of the sync protocol compute: a SHA-256 over each agent's and MCP
 * server's id and record hash (canonical JSON: sorted keys, no whitespace), in id order. The
 * server recomputes it after applying a delta; a mismatch means the two sides diverged and the
 * device sends a full snapshot instead.
 */
import { createHash } from 'node:crypto';

export type DigestEntry = Readonly<{ id: string; hash: string }>;

/** Canonical JSON: object keys sorted, undefined members dropped, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** The hash of one agent or MCP server record. */
export function recordHash(record: unknown): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** The digest of an inventory's agents and MCP servers, given each record's id and hash. */
export function inventoryDigest(agents: readonly DigestEntry[], mcpServers: readonly DigestEntry[]): string {
  const hash = createHash('sha256').update('cordon-inventory/1\n');
  for (const [tag, list] of [['a', agents], ['m', mcpServers]] as const) {
    const sorted = [...list].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    for (const entry of sorted) hash.update(`${tag}:${entry.id}:${entry.hash}\n`);
  }
  return hash.digest('hex');
}

/** Digest of full records (the device side). */
export function digestOfRecords(agents: readonly Readonly<{ id: string }>[], mcpServers: readonly Readonly<{ id: string }>[]): string {
  return inventoryDigest(
    agents.map((a) => ({ id: a.id, hash: recordHash(a) })),
    mcpServers.map((m) => ({ id: m.id, hash: recordHash(m) })),
  );
}
