/**
 * The audit chain's row shape and its hash: SHA-256 over a canonical serialization of every stored
 * field plus the previous event's hash. Changing this changes every hash: add a new version instead.
 */
import { createHash } from 'node:crypto';

/** The prevHash of the first event ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** Domain separator and serialization version, hashed first. */
const HASH_VERSION = 'cordon-audit/1';

/** One row of the `events` table as stored (migration 0002 adds the audit columns). */
export type AuditRow = {
  seq: number;
  id: string;
  time: string;
  type: string;
  subject_id: string | null;
  summary: string;
  /** JSON text, hashed exactly as stored. */
  data: string;
  agent_id: string | null;
  agent_kind: string | null;
  decision: string | null;
  rule: string | null;
  host: string | null;
  port: number | null;
  method: string | null;
  path: string | null;
  bytes_up: number | null;
  bytes_down: number | null;
  key_thumbprint: string | null;
  prev_hash: string;
  hash: string;
};

/** What a writer supplies; seq, prev_hash and hash are assigned by the chain. */
export type AuditRowInput = Omit<AuditRow, 'seq' | 'prev_hash' | 'hash'>;

/** Column list in insert order (seq first, hash last). */
export const AUDIT_COLUMNS = [
  'seq', 'id', 'time', 'type', 'subject_id', 'summary', 'data', 'agent_id', 'agent_kind', 'decision', 'rule',
  'host', 'port', 'method', 'path', 'bytes_up', 'bytes_down', 'key_thumbprint', 'prev_hash', 'hash',
] as const satisfies readonly (keyof AuditRow)[];

/**
 * The hash of one event. The serialization is a JSON array in a fixed order, so field boundaries
 * are unambiguous; seq is included so moving an event's content to another seq shows.
 */
export function hashAuditRow(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([
    HASH_VERSION, row.seq, row.id, row.time, row.type, row.subject_id, row.summary, row.data, row.agent_id, row.agent_kind,
    row.decision, row.rule, row.host, row.port, row.method, row.path, row.bytes_up, row.bytes_down, row.key_thumbprint, row.prev_hash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Builds the stored row for an input at a seq after prevHash. Strings are made well-formed first:
 * SQLite stores a lone UTF-16 surrogate as U+FFFD, so hashing the raw string would make the row
 * fail verification once read back (a crafted value could raise a false tampering alarm).
 */
export function chainRow(input: AuditRowInput, seq: number, prevHash: string): AuditRow {
  const clean = Object.fromEntries(Object.entries(input).map(([k, v]) => [k, typeof v === 'string' ? v.toWellFormed() : v])) as AuditRowInput;
  const unhashed = { seq, ...clean, prev_hash: prevHash };
  return { ...unhashed, hash: hashAuditRow(unhashed) };
}

/** Positional parameters for an INSERT listing AUDIT_COLUMNS. */
export function rowParams(row: AuditRow): (string | number | null)[] {
  return AUDIT_COLUMNS.map((c) => row[c]);
}

/** The row of a non-decision event (inventory change, daemon or settings event). */
export function eventRowInput(id: string, time: string, type: string, summary: string, data: unknown, subjectId: string | null): AuditRowInput {
  return {
    id, time, type, subject_id: subjectId, summary, data: JSON.stringify(data ?? null) ?? 'null',
    agent_id: null, agent_kind: null, decision: null, rule: null, host: null, port: null, method: null, path: null,
    bytes_up: null, bytes_down: null, key_thumbprint: null,
  };
}
