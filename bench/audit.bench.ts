// Audit trail cost: chained appends per second (one event per transaction, and batches of 100)
// against a plain un-chained INSERT into a same-shaped table in the same database and run (the
// baseline: same rows, same pragmas, same fsyncs), and the time to verify 100,000 events.
// Runnable directly: node bench/audit.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAuditLog } from '../app/audit/auditLog.ts';
import { decisionRow, type DecisionAuditInput } from '../app/audit/decision.ts';
import { AUDIT_COLUMNS, rowParams } from '../app/audit/hash.ts';
import { verifyAudit } from '../app/audit/verify.ts';
import { openDatabase, type Db } from '../app/store/database.ts';
import { printTable } from './report.ts';

const SINGLE = 2_000;
const BATCH = 100;
const BATCHES = 100;
const VERIFY_EVENTS = 100_000;

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cordon-bench-audit-'));
  try {
    const db = openDatabase(join(root, 'cordon.db'));
    // Same columns and indexes as the chained events table.
    db.exec(`CREATE TABLE baseline AS SELECT * FROM events WHERE 0;
      CREATE UNIQUE INDEX baseline_id ON baseline (id); CREATE INDEX baseline_type_seq ON baseline (type, seq);
      CREATE INDEX baseline_time ON baseline (time); CREATE INDEX baseline_agent_seq ON baseline (agent_id, seq);
      CREATE INDEX baseline_agent_kind_seq ON baseline (agent_kind, seq); CREATE INDEX baseline_decision_seq ON baseline (decision, seq);`);
    const log = createAuditLog(db, { headFile: join(root, 'head') });
    const plain = db.prepare(`INSERT INTO baseline (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`);
    let plainSeq = 0;
    // The same row shaping (redaction, JSON) as the chain; only hashing and chaining differ.
    const plainInsert = (input: DecisionAuditInput): void => {
      plain.run(rowParams({ seq: ++plainSeq, ...decisionRow(input), prev_hash: '', hash: '' }));
    };
    const plainBatch = db.transaction((inputs: readonly DecisionAuditInput[]) => inputs.forEach(plainInsert));

    const baseSingle = rate(SINGLE, () => plainInsert(sample()));
    const chainSingle = rate(SINGLE, () => log.appendDecision(sample()));
    const batch = Array.from({ length: BATCH }, () => sample());
    const baseBatch = rate(BATCHES, () => plainBatch.immediate(batch)) * BATCH;
    const chainBatch = rate(BATCHES, () => log.appendBatch(batch)) * BATCH;

    fill(log, VERIFY_EVENTS - count(db));
    const started = performance.now();
    const result = verifyAudit(db, { headFile: join(root, 'head') });
    const verifyMs = performance.now() - started;
    if (!result.ok || result.checked !== VERIFY_EVENTS) throw new Error(`verify failed: ${JSON.stringify(result.problems.slice(0, 3))}`);
    db.close();

    printTable(['measure', 'events/s', 'baseline events/s', 'ratio to baseline'], [
      ['append, one event per transaction (fsync each)', fmt(chainSingle), fmt(baseSingle), `${(chainSingle / baseSingle).toFixed(2)}x`],
      [`append, batches of ${BATCH} (one fsync per batch)`, fmt(chainBatch), fmt(baseBatch), `${(chainBatch / baseBatch).toFixed(2)}x`],
    ]);
    printTable(['measure', 'result'], [
      [`verify ${VERIFY_EVENTS.toLocaleString('en-US')} events`, `${verifyMs.toFixed(0)} ms (${((verifyMs * 1000) / VERIFY_EVENTS).toFixed(1)} us/event)`],
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function sample(): DecisionAuditInput {
  return {
    principal: {
      attributed: true,
      chain: [
        { pid: 4242, ppid: 4241, exe: '/usr/bin/curl', argv: ['curl', '-s', 'https://api.example.com/v1/items?page=2'], uid: 1000, user: 'dev', cwd: '/home/dev/project', startTimeMs: 1 },
        { pid: 4241, ppid: 4000, exe: '/usr/bin/bash', argv: ['bash', '-c', 'curl -s https://api.example.com/v1/items'], uid: 1000, user: 'dev', cwd: '/home/dev/project', startTimeMs: 1 },
        { pid: 4000, ppid: 1, exe: '/usr/local/bin/claude', argv: ['claude'], uid: 1000, user: 'dev', cwd: '/home/dev', startTimeMs: 1 },
      ],
      agent: { id: 'agent_0123456789abcdef', kind: 'claude-code', name: 'Claude Code', pid: 4000, exe: '/usr/local/bin/claude' },
    },
    request: { kind: 'https', host: 'api.example.com', port: 443, method: 'GET', path: '/v1/items?page=2' },
    decision: { action: 'allow', rule: 'user:allow-api', layer: 'user', reasons: [{ code: 'rule', message: 'matched allow-api' }] },
    bytesUp: 512,
    bytesDown: 20_480,
    durationMs: 3.2,
    status: 200,
  };
}

function rate(iterations: number, fn: () => void): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return iterations / ((performance.now() - started) / 1000);
}

function fill(log: ReturnType<typeof createAuditLog>, n: number): void {
  const batch = Array.from({ length: 1000 }, () => sample());
  for (let left = n; left > 0; left -= batch.length) log.appendBatch(batch.slice(0, Math.min(batch.length, left)));
}

function count(db: Db): number {
  return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
