import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { main } from '../../app/cli/main.ts';
import { openDatabase } from '../../app/store/database.ts';
import { createEventStore } from '../../app/store/eventStore.ts';
import { migration0001 } from '../../app/store/migrations/0001-inventory-events.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { decisionInput, secretsIn } from './fixtures.ts';

type Run = { code: number; stdout: string; stderr: string };

function home() {
  const root = mkdtempSync(join(tmpdir(), 'cordon-audit-cli-'));
  const env = { PATH: process.env.PATH, HOME: root, CORDON_HOME: join(root, 'cordon'), CORDON_MANAGED_SETTINGS: join(root, 'managed.json') };
  const paths = cordonPaths(env);
  const run = async (...argv: string[]): Promise<Run> => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await main(argv, { stdout, stderr, env, cwd: root });
    return { code, stdout: out, stderr: err };
  };
  return { root, env, paths, run, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A trail like a running daemon leaves it; the writer connection stays open (daemon running). */
function populate(file: string) {
  const db = openDatabase(file);
  const log = createAuditLog(db);
  const store = createEventStore(db);
  const old = new Date(Date.now() - 40 * 86_400_000);
  log.appendBatch([decisionInput({ time: old }), decisionInput({ time: old, action: 'deny' })]);
  store.append('daemon.started', 'started', { pid: 1 });
  log.appendDecision(decisionInput({ action: 'deny', agent: 'codex' }));
  log.appendDecision(decisionInput({ action: 'allow', request: { kind: 'connect', host: 'github.com', port: 443 } }));
  return db;
}

test('audit verify reports OK, then the first bad seq with exit 1 after tampering', async () => {
  const h = home();
  const db = populate(h.paths.databaseFile);
  try {
    let r = await h.run('audit', 'verify');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audit trail OK: 5 events \(seq 1-5\)/);
    assert.match(r.stdout, /head file matched/);
    db.prepare("UPDATE events SET decision = 'allow' WHERE seq = 4").run();
    r = await h.run('audit', 'verify');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN at seq 4: event 4 was changed/);
    r = await h.run('audit', 'verify', '--json');
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout) as { ok: boolean; problems: { seq: number; kind: string }[] };
    assert.deepEqual([json.ok, json.problems[0]?.seq, json.problems[0]?.kind], [false, 4, 'edited']);
  } finally {
    db.close();
    h.cleanup();
  }
});

test('audit query filters and prints text or JSON; bad options are usage errors', async () => {
  const h = home();
  const db = populate(h.paths.databaseFile);
  try {
    let r = await h.run('audit', 'query', '--decision', 'deny', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { seq: number }[]).map((e) => e.seq), [2, 4]);
    r = await h.run('audit', 'query', '--agent', 'codex');
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.match(r.stdout, /egress\.deny .*codex/);
    r = await h.run('audit', 'query', '--type', 'daemon.started', '--type', 'egress.allow', '--since', new Date(Date.now() - 86_400_000).toISOString(), '--json');
    assert.deepEqual((JSON.parse(r.stdout) as { seq: number }[]).map((e) => e.seq), [3, 5]);
    r = await h.run('audit', 'query', '--limit', '2');
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => Number(l.trim().split(/\s+/)[0])), [4, 5]);
    assert.deepEqual(secretsIn(r.stdout), []);
    for (const bad of [['--decision', 'maybe'], ['--since', 'last week'], ['--limit', '0'], ['--limit', 'x']]) {
      r = await h.run('audit', 'query', ...bad);
      assert.equal(r.code, 2, bad.join(' '));
      assert.match(r.stderr, /usage: cordon audit query/);
    }
  } finally {
    db.close();
    h.cleanup();
  }
});

test('audit export writes OCSF JSON lines or CSV (to stdout or a 0600 file), never secrets', async () => {
  const h = home();
  const db = populate(h.paths.databaseFile);
  try {
    let r = await h.run('audit', 'export', '--ocsf');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { class_uid: number; type_uid: number; metadata: { version: string } });
    assert.deepEqual(lines.map((l) => l.class_uid), [4002, 4002, 6002, 4002, 4001]);
    assert.ok(lines.every((l) => l.metadata.version === '1.8.0'));
    assert.deepEqual(secretsIn(r.stdout), []);

    r = await h.run('audit', 'export', '--csv', '--out', 'audit.csv', '--decision', 'deny');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wrote 2 events to audit\.csv/);
    const file = join(h.root, 'audit.csv');
    const csv = readFileSync(file, 'utf8').split('\r\n');
    assert.equal(csv[0], 'seq,time,type,agent,agent_kind,decision,rule,host,port,method,path,bytes_up,bytes_down,key_thumbprint,summary,id,hash');
    assert.equal(csv.length, 4); // header, two rows, trailing empty
    assert.match(csv[1]!, /^2,.*,egress\.deny,agent_claude-code,claude-code,deny,user:allow-example,api\.example\.com,443,POST,/);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(secretsIn(readFileSync(file, 'utf8')), []);

    r = await h.run('audit', 'export');
    assert.equal(r.code, 2);
    r = await h.run('audit', 'export', '--csv', '--out', join(h.root, 'no', 'such', 'dir', 'x.csv'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot write/);
  } finally {
    db.close();
    h.cleanup();
  }
});

test('audit prune removes old events by the retention setting and the chain still verifies', async () => {
  const h = home();
  populate(h.paths.databaseFile).close();
  try {
    let r = await h.run('audit', 'prune');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'nothing to prune\n'); // default 90 days; the oldest events are 40 days old
    r = await h.run('audit', 'prune', '--days', '30', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { removed: number; throughSeq: number }).throughSeq, 2);
    r = await h.run('audit', 'verify');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /starts after pruning through seq 2 \(anchor event 6\)/);
  } finally {
    h.cleanup();
  }
});

test('missing, foreign and outdated databases give one clear error line, no stack', async () => {
  const h = home();
  try {
    let r = await h.run('audit', 'verify');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no database at .* \(ERR_NOT_FOUND\)\n$/);
    mkdirSync(h.paths.dataDir, { recursive: true });
    writeFileSync(h.paths.databaseFile, 'this is not sqlite'.repeat(100));
    r = await h.run('audit', 'query');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\(ERR_STORE\)\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    rmSync(h.paths.databaseFile);
    openDatabase(h.paths.databaseFile, [migration0001]).close();
    r = await h.run('audit', 'export', '--ocsf');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /predates the audit trail/);
  } finally {
    h.cleanup();
  }
});
