/**
 * Verification of the audit chain: recomputes every event's hash and link in one read snapshot
 * and names the first bad seq and what is wrong (edited, missing, inserted or reordered events,
 * a cut-off tail). Read-only; a broken chain is a result, not an exception.
 *
 * What it cannot see: the chain is unkeyed, so whoever can write the database can append events
 * with valid hashes (even a forged audit.pruned anchor) or rebuild the chain and the head file.
 * Comparing headHash with a copy kept off the machine (the fleet) is what closes that.
 */
import type Database from 'better-sqlite3';
import type { AuditPrunedData, AuditProblem, AuditVerifyResult } from '../api/audit.ts';
import { GENESIS_HASH, hashAuditRow, type AuditRow } from './hash.ts';
import { readAuditHead, type AuditHead } from './headFile.ts';

type Db = Database.Database;

export const MAX_PROBLEMS = 100;
export const PRUNED_TYPE = 'audit.pruned';

export type VerifyOptions = Readonly<{
  /** The head file to compare with (see headFile.ts); null or absent: no head file check. */
  headFile?: string | null;
}>;

type Anchor = { seq: number; throughHash: string };

export function verifyAudit(db: Db, options: VerifyOptions = {}): AuditVerifyResult {
  // Read the head file before the snapshot: a writer updates it after committing, so what it
  // names is then never newer than what the snapshot sees.
  const headRecord = options.headFile ? readAuditHead(options.headFile) : null;
  return db.transaction(() => verifySnapshot(db, headRecord))();
}

function verifySnapshot(db: Db, headRecord: AuditHead | null | 'unreadable'): AuditVerifyResult {
  const problems: AuditProblem[] = [];
  const report = (problem: AuditProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  const anchors = pruneAnchors(db);
  const counter = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()?.seq ?? 0;

  let checked = 0;
  let first: AuditRow | null = null;
  let prev: AuditRow | null = null;
  let anchor: AuditVerifyResult['anchor'] = null;
  for (const row of db.prepare('SELECT * FROM events ORDER BY seq ASC').iterate() as IterableIterator<AuditRow>) {
    checked++;
    if (hashAuditRow(row) !== row.hash) {
      report({ seq: row.seq, kind: 'edited', message: `event ${row.seq} was changed after it was written: its content does not match its hash` });
    }
    if (prev === null) {
      first = row;
      if (row.prev_hash === GENESIS_HASH) {
        if (row.seq !== 1) report({ seq: row.seq, kind: 'missing-start', message: `the chain restarts at event ${row.seq}: events 1-${row.seq - 1} are missing` });
      } else {
        const found = anchors.get(row.seq - 1);
        if (found && found.throughHash === row.prev_hash) {
          anchor = { seq: found.seq, throughSeq: row.seq - 1 };
        } else {
          report({ seq: row.seq, kind: 'missing-start', message: `events before ${row.seq} are missing and no ${PRUNED_TYPE} event accounts for them` });
        }
      }
    } else if (row.seq !== prev.seq + 1) {
      const gap = row.seq - prev.seq - 1;
      report({ seq: row.seq, kind: 'missing', message: gap === 1 ? `event ${prev.seq + 1} is missing (deleted)` : `events ${prev.seq + 1}-${row.seq - 1} are missing (deleted)` });
    } else if (row.prev_hash !== prev.hash) {
      report({ seq: row.seq, kind: 'broken-link', message: `event ${row.seq} does not follow event ${prev.seq}: an event was changed, inserted or reordered here` });
    }
    prev = row;
  }

  const lastSeq = prev?.seq ?? null;
  if (counter > (lastSeq ?? 0)) {
    report({ seq: (lastSeq ?? 0) + 1, kind: 'truncated', message: lastSeq === null ? `all ${counter} events are missing` : `events after ${lastSeq} are missing: the sequence counter is at ${counter}` });
  }
  const headFile = checkHeadFile(db, headRecord, first?.seq ?? null, lastSeq, report);
  return { ok: problems.length === 0, checked, firstSeq: first?.seq ?? null, lastSeq, headHash: prev?.hash ?? null, anchor, headFile, problems };
}

/** audit.pruned events by the seq they prune through. Malformed ones are ignored (they still chain). */
function pruneAnchors(db: Db): Map<number, Anchor> {
  const anchors = new Map<number, Anchor>();
  const rows = db.prepare<[string], { seq: number; data: string }>('SELECT seq, data FROM events WHERE type = ? ORDER BY seq').all(PRUNED_TYPE);
  for (const row of rows) {
    try {
      const data = JSON.parse(row.data) as Partial<AuditPrunedData>;
      if (typeof data.throughSeq === 'number' && typeof data.throughHash === 'string' && data.throughSeq < row.seq) {
        anchors.set(data.throughSeq, { seq: row.seq, throughHash: data.throughHash });
      }
    } catch {
      // not an anchor
    }
  }
  return anchors;
}

function checkHeadFile(
  db: Db,
  head: AuditHead | null | 'unreadable',
  firstSeq: number | null,
  lastSeq: number | null,
  report: (p: AuditProblem) => void,
): AuditVerifyResult['headFile'] {
  if (head === null) return 'absent';
  if (head === 'unreadable') {
    report({ seq: null, kind: 'head-mismatch', message: 'the audit head file is damaged: it cannot confirm the newest event' });
    return 'unreadable';
  }
  if (lastSeq === null || head.seq > lastSeq) {
    report({ seq: (lastSeq ?? 0) + 1, kind: 'truncated', message: `the head file names event ${head.seq} but the newest event is ${lastSeq ?? 'none'}: newer events were removed` });
    return 'mismatch';
  }
  if (firstSeq !== null && head.seq < firstSeq) return 'behind';
  const stored = db.prepare<[number], { hash: string }>('SELECT hash FROM events WHERE seq = ?').get(head.seq);
  if (!stored) return 'mismatch'; // inside a gap: already reported as missing
  if (stored.hash !== head.hash) {
    report({ seq: head.seq, kind: 'head-mismatch', message: `event ${head.seq} is not the event the head file recorded: the chain was rewritten from there` });
    return 'mismatch';
  }
  return 'matched';
}
