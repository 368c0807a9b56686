/**
 * Reading the audit trail: filters (time range, agent, decision, type, cursor) compiled to one
 * indexed SELECT, as a page or as a stream for exports. Read-only: never writes.
 */
import type Database from 'better-sqlite3';
import { AUDIT_DECISIONS, type AuditDecision, type AuditEvent, type AuditQuery } from '../api/audit.ts';
import { CoreError } from '../api/errors.ts';
import type { AuditRow } from './hash.ts';

type Db = Database.Database;

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 10_000;

/** One page of events matching the query (newest first unless order is "asc"). */
export function queryAudit(db: Db, query: AuditQuery = {}): AuditEvent[] {
  const { sql, params } = compile(query, clampLimit(query.limit));
  return (db.prepare(sql).all(...params) as AuditRow[]).map(toAuditEvent);
}

/** Every matching event in seq order, streamed (exports of any size in constant memory). */
export function* iterateAudit(db: Db, query: Omit<AuditQuery, 'limit' | 'order'> & { limit?: number } = {}): Generator<AuditEvent> {
  const { sql, params } = compile({ ...query, order: 'asc' }, query.limit === undefined ? null : clampLimit(query.limit, Number.MAX_SAFE_INTEGER));
  for (const row of db.prepare(sql).iterate(...params) as IterableIterator<AuditRow>) yield toAuditEvent(row);
}

/** The API shape of a stored row. Unparseable data JSON becomes null rather than an error. */
export function toAuditEvent(row: AuditRow): AuditEvent {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    data = null;
  }
  return auditEventOf(row, data);
}

/** The API shape of a row whose data column is the JSON of `data` (a row just written). */
export function auditEventOf(row: AuditRow, data: unknown): AuditEvent {
  const decision = AUDIT_DECISIONS.includes(row.decision as AuditDecision) ? (row.decision as AuditDecision) : null;
  return {
    seq: row.seq,
    id: row.id,
    time: row.time,
    type: row.type,
    subjectId: row.subject_id,
    summary: row.summary,
    data,
    agent: row.agent_id,
    agentKind: row.agent_kind,
    decision,
    rule: row.rule,
    destination: row.host !== null ? { host: row.host, port: row.port, method: row.method, path: row.path } : null,
    bytesUp: row.bytes_up,
    bytesDown: row.bytes_down,
    keyThumbprint: row.key_thumbprint,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function compile(query: AuditQuery, limit: number | null): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.afterSeq !== undefined) {
    if (!Number.isSafeInteger(query.afterSeq)) throw new CoreError('ERR_BAD_REQUEST', 'afterSeq must be an integer');
    where.push('seq > ?');
    params.push(query.afterSeq);
  }
  if (query.since !== undefined) {
    where.push('time >= ?');
    params.push(isoTime(query.since, 'since'));
  }
  if (query.until !== undefined) {
    where.push('time < ?');
    params.push(isoTime(query.until, 'until'));
  }
  if (query.agent !== undefined) {
    where.push('(agent_id = ? OR agent_kind = ?)');
    params.push(query.agent, query.agent);
  }
  if (query.decision !== undefined) {
    if (!AUDIT_DECISIONS.includes(query.decision)) throw new CoreError('ERR_BAD_REQUEST', `decision must be one of ${AUDIT_DECISIONS.join(', ')}`);
    where.push('decision = ?');
    params.push(query.decision);
  }
  if (query.types && query.types.length > 0) {
    where.push(`type IN (${query.types.map(() => '?').join(',')})`);
    params.push(...query.types);
  }
  const order = query.order === 'asc' ? 'ASC' : 'DESC';
  const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order}${limit !== null ? ` LIMIT ${limit}` : ''}`;
  return { sql, params };
}

function clampLimit(limit: number | undefined, max = MAX_QUERY_LIMIT): number {
  if (limit === undefined) return DEFAULT_QUERY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CoreError('ERR_BAD_REQUEST', 'limit must be a positive integer');
  return Math.min(limit, max);
}

/** Normalizes an ISO time to the stored form (UTC, milliseconds) so string comparison orders it. */
export function isoTime(value: string, name: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new CoreError('ERR_BAD_REQUEST', `${name} must be an ISO 8601 time, got '${String(value).slice(0, 64)}'`);
  return new Date(ms).toISOString();
}
