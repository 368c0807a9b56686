/**
 * Validation of POST /v1/events batches: every field of every event is checked against the
 * protocol's bounds, seqs must increase past `after`, ids must be unique, and each event's hash is
 * recomputed (app/audit/hash.ts) so the server knows which events verify. A bad batch is refused
 * whole with the problems listed by index; nothing is stored.
 */
import { AUDIT_DECISIONS } from '../../app/api/audit.ts';
import { SYNC_LIMITS, type SyncEvent, type SyncProblem } from '../../app/api/sync.ts';
import { hashAuditRow } from '../../app/audit/hash.ts';
import type { CheckedEvent } from '../store/events.ts';
import { FieldChecker, ISO_TIME, isObject, type Json } from './fields.ts';

export type BatchCheck = { ok: true; after: number; events: CheckedEvent[] } | { ok: false; problems: SyncProblem[] };

const EVENT_FIELDS = [
  'seq', 'id', 'time', 'type', 'subjectId', 'summary', 'data', 'agent', 'agentKind', 'decision', 'rule', 'destination',
  'bytesUp', 'bytesDown', 'keyThumbprint', 'prevHash', 'hash',
] as const satisfies readonly (keyof SyncEvent)[];
const UUIDISH = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;
const EVENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export function checkEventBatch(body: unknown): BatchCheck {
  const top = new FieldChecker();
  if (!isObject(body)) return { ok: false, problems: [{ field: '', message: 'the body must be a JSON object' }] };
  top.only(body, ['after', 'events']);
  const after = top.integer(body, 'after', { min: 0 });
  const list = top.array(body, 'events', { max: SYNC_LIMITS.maxBatchEvents });
  if (!top.ok || after == null || list === undefined) return { ok: false, problems: top.problems };

  const events: CheckedEvent[] = [];
  const ids = new Set<string>();
  let lastSeq = after;
  for (let i = 0; i < list.length; i++) {
    const c = new FieldChecker({ index: i, prefix: `events[${i}].`, problems: top.problems });
    const checked = checkEvent(list[i], c);
    if (!checked) continue;
    if (checked.event.seq <= lastSeq) c.fail('seq', i === 0 ? 'must be greater than after' : 'must be greater than the previous event\'s seq');
    if (ids.has(checked.event.id)) c.fail('id', 'appears twice in the batch');
    ids.add(checked.event.id);
    lastSeq = Math.max(lastSeq, checked.event.seq);
    events.push(checked);
    if (top.problems.length >= 50) break;
  }
  if (!top.ok) return { ok: false, problems: top.problems };
  return { ok: true, after, events };
}

function checkEvent(raw: unknown, c: FieldChecker): CheckedEvent | null {
  if (!isObject(raw)) {
    c.fail('', 'must be an object');
    return null;
  }
  c.only(raw, EVENT_FIELDS);
  const seq = c.integer(raw, 'seq', { min: 1 });
  const id = c.string(raw, 'id', { max: 64, pattern: UUIDISH });
  const time = c.string(raw, 'time', { max: 40, pattern: ISO_TIME });
  if (typeof time === 'string' && Number.isNaN(Date.parse(time))) c.fail('time', 'is not a valid date');
  const type = c.string(raw, 'type', { max: 128, pattern: EVENT_TYPE });
  const subjectId = c.string(raw, 'subjectId', { max: SYNC_LIMITS.maxShortString, nullable: true });
  const summary = c.string(raw, 'summary', { max: SYNC_LIMITS.maxLongString });
  const agent = c.string(raw, 'agent', { max: SYNC_LIMITS.maxShortString, nullable: true });
  const agentKind = c.string(raw, 'agentKind', { max: SYNC_LIMITS.maxShortString, nullable: true });
  const decision = c.oneOf(raw, 'decision', AUDIT_DECISIONS, { nullable: true });
  const rule = c.string(raw, 'rule', { max: SYNC_LIMITS.maxShortString, nullable: true });
  const bytesUp = c.integer(raw, 'bytesUp', { min: 0, nullable: true });
  const bytesDown = c.integer(raw, 'bytesDown', { min: 0, nullable: true });
  const keyThumbprint = c.string(raw, 'keyThumbprint', { max: 128, nullable: true });
  const prevHash = c.string(raw, 'prevHash', { max: 64, pattern: HEX64 });
  const hash = c.string(raw, 'hash', { max: 64, pattern: HEX64 });
  const destination = checkDestination(raw, c);
  if (!('data' in raw)) c.fail('data', 'is required (null when there is none)');
  const dataText = JSON.stringify(raw.data ?? null);
  if (dataText.length > SYNC_LIMITS.maxEventBytes) c.fail('data', `is larger than ${SYNC_LIMITS.maxEventBytes} bytes`);
  if (
    seq == null || id == null || time == null || type == null || subjectId === undefined || summary == null || agent === undefined ||
    agentKind === undefined || decision === undefined || rule === undefined || bytesUp === undefined || bytesDown === undefined ||
    keyThumbprint === undefined || prevHash == null || hash == null || destination === undefined || !('data' in raw) ||
    dataText.length > SYNC_LIMITS.maxEventBytes
  ) {
    return null;
  }
  const event: SyncEvent = {
    seq, id, time, type, subjectId, summary, data: raw.data ?? null, agent, agentKind, decision, rule, destination, bytesUp, bytesDown,
    keyThumbprint, prevHash, hash,
  };
  const recomputed = hashAuditRow({
    seq, id, time, type, subject_id: subjectId, summary, data: dataText, agent_id: agent, agent_kind: agentKind, decision, rule,
    host: destination?.host ?? null, port: destination?.port ?? null, method: destination?.method ?? null, path: destination?.path ?? null,
    bytes_up: bytesUp, bytes_down: bytesDown, key_thumbprint: keyThumbprint, prev_hash: prevHash,
  });
  return { event, hashOk: recomputed === hash, dataText };
}

function checkDestination(raw: Json, c: FieldChecker): SyncEvent['destination'] | undefined {
  const d = c.object(raw, 'destination', { nullable: true });
  if (d === null) return null;
  if (d === undefined) return undefined;
  const dc = c.child('destination.');
  dc.only(d, ['host', 'port', 'method', 'path']);
  const host = dc.string(d, 'host', { max: SYNC_LIMITS.maxShortString });
  const port = dc.integer(d, 'port', { min: 0, max: 65535, nullable: true });
  const method = dc.string(d, 'method', { max: SYNC_LIMITS.maxShortString, nullable: true });
  const path = dc.string(d, 'path', { max: SYNC_LIMITS.maxLongString, nullable: true });
  if (host == null || port === undefined || method === undefined || path === undefined) return undefined;
  return { host, port, method, path };
}
