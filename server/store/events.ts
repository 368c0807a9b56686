/**
 * Audit events from devices: idempotent ingest (one row per device and event id, so a retried
 * batch never duplicates), the acknowledged cursor, and the device's chain head. The cursor and
 * head live in the devices row and are updated in the same transaction as the events, under a row
 * lock on PostgreSQL, so several server processes can ingest for one device safely. On SQLite,
 * concurrent batches share one commit (group commit in sqliteDriver.ts).
 */
import type { EventBatchAck, SyncEvent } from '../../app/api/sync.ts';
import type { SqlDriver, SqlExecutor, SqlParams } from './driver.ts';

/** An event the sync layer validated, with the outcome of its hash check. */
export type CheckedEvent = Readonly<{ event: SyncEvent; hashOk: boolean; /** JSON text of event.data (as hashed). */ dataText: string }>;

export type Events = Readonly<{
  ingest(deviceId: string, after: number, events: readonly CheckedEvent[], now: number): Promise<EventBatchAck>;
}>;

export const EVENT_COLUMNS = [
  'device_id', 'event_id', 'seq', 'time', 'time_ms', 'type', 'subject_id', 'summary', 'data', 'agent', 'agent_kind', 'decision', 'rule',
  'host', 'port', 'method', 'path', 'bytes_up', 'bytes_down', 'key_thumbprint', 'prev_hash', 'hash', 'hash_ok', 'received_at',
] as const;

type CursorRow = { cursor: number; head_seq: number | null; head_hash: string | null };

export function createEvents(driver: SqlDriver): Events {
  const lock = driver.dialect === 'postgres' ? ' FOR UPDATE' : '';
  return { ingest: (deviceId, after, events, now) => driver.transaction((tx) => ingestOne(tx, lock, deviceId, after, events, now)) };
}

async function ingestOne(tx: SqlExecutor, lock: string, deviceId: string, after: number, events: readonly CheckedEvent[], now: number): Promise<EventBatchAck> {
  const device = await tx.get<CursorRow>(`SELECT cursor, head_seq, head_hash FROM devices WHERE id = ?${lock}`, [deviceId]);
  if (!device) throw new Error(`device ${deviceId} vanished during ingest`);
  const rows = events.map((c) => eventParams(deviceId, c, now));
  const inserted = await tx.insertMany('events', EVENT_COLUMNS, rows, { onConflict: 'ON CONFLICT (device_id, event_id) DO NOTHING', returning: 'event_id' });
  const fresh = new Set(inserted);
  let problems = 0;
  let prev: SyncEvent | null = null;
  for (const { event, hashOk } of events) {
    if (fresh.has(event.id)) {
      if (!hashOk) problems++;
      // Consecutive seqs must chain: the batch's first event against the head the server holds.
      const before = prev ?? (device.head_seq !== null ? { seq: device.head_seq, hash: device.head_hash ?? '' } : null);
      if (before && before.seq + 1 === event.seq && before.hash !== event.prevHash) problems++;
    }
    prev = event;
  }
  const last = events.at(-1)?.event;
  let cursor = device.cursor;
  if (after > cursor) {
    // The device says it had more acknowledged than this server holds (a restored backup):
    // keep the hole visible instead of silently moving on.
    await tx.run('INSERT INTO device_gaps (device_id, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?)', [deviceId, cursor + 1, after, now]);
    cursor = after;
  }
  if (last && last.seq > cursor) cursor = last.seq;
  let headSeq = device.head_seq;
  let headHash = device.head_hash;
  if (last && fresh.has(last.id) && (headSeq === null || last.seq > headSeq)) {
    headSeq = last.seq;
    headHash = last.hash;
  }
  await tx.run(
    'UPDATE devices SET cursor = ?, head_seq = ?, head_hash = ?, chain_problems = chain_problems + ?, events_total = events_total + ?, last_seen_at = ? WHERE id = ?',
    [cursor, headSeq, headHash, problems, fresh.size, now, deviceId],
  );
  return { cursor, stored: fresh.size, duplicates: events.length - fresh.size, headSeq, headHash };
}

function eventParams(deviceId: string, { event: e, hashOk, dataText }: CheckedEvent, now: number): SqlParams {
  const d = e.destination;
  return [
    deviceId, e.id, e.seq, e.time, Date.parse(e.time), e.type, e.subjectId, e.summary, dataText, e.agent, e.agentKind,
    e.decision, e.rule, d?.host ?? null, d?.port ?? null, d?.method ?? null, d?.path ?? null, e.bytesUp, e.bytesDown, e.keyThumbprint,
    e.prevHash, e.hash, hashOk ? 1 : 0, now,
  ];
}
