/**
 * Retention of the audit trail by age, row count and approximate size. Pruning removes the oldest
 * events and records an "audit.pruned" anchor (the seq and hash of the last removed event) as a
 * chained event in the same transaction, so verification starts from the anchor afterwards.
 */
import { newEventId } from './eventId.ts';
import type Database from 'better-sqlite3';
import type { AuditPruneResult, AuditPrunedData, AuditRetention } from '../api/audit.ts';
import { CoreError } from '../api/errors.ts';
import { auditChain } from './chain.ts';
import { toAuditEvent } from './query.ts';
import { PRUNED_TYPE } from './verify.ts';

type Db = Database.Database;

const DAY_MS = 86_400_000;
/** Per-row overhead added to the stored text length when estimating size (columns, index entries). */
const ROW_OVERHEAD_BYTES = 200;

export type PruneOptions = Readonly<{ now?: Date; reason?: string }>;

/** Prunes what the policy allows; returns what was removed and the anchor recorded. */
export function pruneAudit(db: Db, policy: AuditRetention, options: PruneOptions = {}): AuditPruneResult {
  validate(policy);
  const now = options.now ?? new Date();
  const chain = auditChain(db);
  return chain.transaction((): AuditPruneResult => {
    const candidates: number[] = [];
    if (policy.maxAgeDays !== undefined) {
      const cutoff = new Date(now.getTime() - policy.maxAgeDays * DAY_MS).toISOString();
      // Prune a prefix only: stop at the first event inside the window even if a later one is
      // older (clock changes), so the kept events stay one contiguous chain.
      const firstKept = db.prepare<[string], { seq: number }>('SELECT seq FROM events NOT INDEXED WHERE time >= ? ORDER BY seq LIMIT 1').get(cutoff);
      const last = db.prepare<[], { seq: number }>('SELECT max(seq) AS seq FROM events').get();
      const through = firstKept ? firstKept.seq - 1 : (last?.seq ?? null);
      if (through !== null) candidates.push(through);
    }
    if (policy.maxRows !== undefined) {
      // Keep maxRows - 1 events plus the anchor about to be written.
      const row = db.prepare<[number], { seq: number }>('SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?').get(policy.maxRows - 1);
      if (row) candidates.push(row.seq);
    }
    if (policy.maxBytes !== undefined) {
      let total = 0;
      const sizes = db.prepare<[], { seq: number; n: number }>(`SELECT seq, length(data) + length(summary) + ${ROW_OVERHEAD_BYTES} AS n FROM events ORDER BY seq DESC`);
      for (const row of sizes.iterate()) {
        total += row.n;
        if (total > policy.maxBytes) {
          candidates.push(row.seq);
          break;
        }
      }
    }
    if (candidates.length === 0) return { removed: 0, throughSeq: null, anchor: null };
    const through = db
      .prepare<[number], { seq: number; hash: string }>('SELECT seq, hash FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1')
      .get(Math.max(...candidates));
    if (!through) return { removed: 0, throughSeq: null, anchor: null };
    const removed = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM events WHERE seq <= ?').get(through.seq)?.n ?? 0;
    const reason = options.reason ?? describe(policy);
    const data: AuditPrunedData = { throughSeq: through.seq, throughHash: through.hash, removed, reason };
    // The anchor is appended before the delete so it chains to the current head, whatever is removed.
    const [anchor] = chain.append([{
      id: newEventId(), time: now.toISOString(), type: PRUNED_TYPE, subject_id: null,
      summary: `pruned ${removed} audit event${removed === 1 ? '' : 's'} through seq ${through.seq} (${reason})`,
      data: JSON.stringify(data), agent_id: null, agent_kind: null, decision: null, rule: null, host: null, port: null,
      method: null, path: null, bytes_up: null, bytes_down: null, key_thumbprint: null,
    }]);
    db.prepare('DELETE FROM events WHERE seq <= ?').run(through.seq);
    return { removed, throughSeq: through.seq, anchor: anchor ? toAuditEvent(anchor) : null };
  });
}

function validate(policy: AuditRetention): void {
  const check = (name: keyof AuditRetention, min: number): void => {
    const v = policy[name];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new CoreError('ERR_BAD_REQUEST', `${name} must be a number >= ${min}`);
  };
  check('maxAgeDays', 0);
  check('maxRows', 1);
  check('maxBytes', 1);
  if (policy.maxRows !== undefined && !Number.isSafeInteger(policy.maxRows)) throw new CoreError('ERR_BAD_REQUEST', 'maxRows must be an integer');
}

function describe(policy: AuditRetention): string {
  const parts: string[] = [];
  if (policy.maxAgeDays !== undefined) parts.push(`older than ${policy.maxAgeDays} days`);
  if (policy.maxRows !== undefined) parts.push(`beyond ${policy.maxRows} events`);
  if (policy.maxBytes !== undefined) parts.push(`beyond ${policy.maxBytes} bytes`);
  return `retention: ${parts.join(', ')}`;
}
