import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { headFileFor } from '../../app/audit/headFile.ts';
import { verifyAudit } from '../../app/audit/verify.ts';
import { openDatabase } from '../../app/store/database.ts';
import { tempDb } from './fixtures.ts';

const CHILD = fileURLToPath(new URL('./fixtures/appendLoop.ts', import.meta.url));
const ROUNDS = 3;
const MAX_EVENTS = 20_000;

/** Runs the child until it has reported `after` commits (plus a random few ms), then SIGKILLs it. */
async function killMidWrite(file: string, after: number): Promise<{ reported: number[]; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [CHILD, file, String(MAX_EVENTS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let killed = false;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!killed && out.split('\n').length > after + 2) {
      killed = true;
      setTimeout(() => child.kill('SIGKILL'), randomInt(0, 5));
    }
  });
  const signal = await exited;
  assert.equal(err, '', err);
  // Only complete lines count: a seq cut off mid-line was never fully reported.
  const lines = out.split('\n').slice(0, -1).filter((l) => l !== 'ready');
  return { reported: lines.map(Number), signal };
}

test('no committed audit event is lost when the writer is SIGKILLed mid-write', { timeout: 60_000 }, async () => {
  const t = tempDb();
  t.db.close();
  try {
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { reported, signal } = await killMidWrite(t.file, randomInt(50, 600));
      assert.equal(signal, 'SIGKILL', 'the child finished before it was killed: raise MAX_EVENTS');
      assert.ok(reported.length > 0);
      const db = openDatabase(t.file);
      const present = new Set(db.prepare('SELECT seq FROM events').pluck().all() as number[]);
      const lost = reported.filter((seq) => !present.has(seq));
      assert.deepEqual(lost, [], `round ${round}: committed events lost`);
      const result = verifyAudit(db, { headFile: headFileFor(t.file) });
      assert.equal(result.ok, true, `round ${round}: ${JSON.stringify(result.problems)}`);
      assert.ok((result.lastSeq ?? 0) >= Math.max(...reported));
      total = present.size;
      db.close();
    }
    assert.ok(total > 0);
  } finally {
    t.cleanup();
  }
});
