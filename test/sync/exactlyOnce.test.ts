/**
 * End to end, counted: N audit events in the daemon database reach the fleet server exactly once
 * although the server process is SIGKILLed and restarted mid-batch and the client process is
 * SIGKILLed mid-sync and restarted, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { createAgentKeyManager } from '../../app/identity/agentKeys.ts';
import { openDatabase } from '../../app/store/database.ts';
import { enrollDevice } from '../../app/sync/enroll.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { openFleetStore } from '../../server/store/fleetStore.ts';
import { decisionInput } from '../audit/fixtures.ts';
import { waitFor } from '../helpers/daemonProcess.ts';
import { KEYRING_SKIP, testKeyStore } from '../identity/helpers.ts';
import { backendMatrix } from '../server/helpers.ts';

const SERVER_MAIN = new URL('../../server/main.ts', import.meta.url).pathname;
const CLIENT_MAIN = new URL('./fixtures/syncProcess.ts', import.meta.url).pathname;
const FIRST = 2400;
const SECOND = 600;

type Proc = { child: ChildProcess; output: () => string; exited: Promise<void> };

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => output, exited };
}

async function kill(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await proc.exited;
}

async function startServer(db: string, port: number): Promise<{ proc: Proc; port: number }> {
  const proc = run(SERVER_MAIN, ['serve', '--db', db, '--port', String(port), '--log-level', 'info'], {});
  let found = 0;
  await waitFor(() => {
    if (proc.child.exitCode !== null) throw new Error(`the server exited: ${proc.output()}`);
    const m = /"msg":"listening".*?"port":(\d+)/.exec(proc.output());
    if (m) found = Number(m[1]);
    return found > 0;
  }, 20_000, () => `server did not start: ${proc.output()}`);
  return { proc, port: found };
}

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`exactly-once delivery with kills (${backend})`, { skip: skip || KEYRING_SKIP }, () => {
    test('server SIGKILLed mid-batch and client SIGKILLed mid-sync: every event arrives once', async () => {
      const { location, cleanup } = await fresh();
      const dbArg = location.kind === 'sqlite' ? `sqlite:${location.file}` : location.url;
      const home = mkdtempSync(join(tmpdir(), 'cordon-once-'));
      const keyStore = testKeyStore();
      const store = await openFleetStore(location);
      const procs: Proc[] = [];
      try {
        // The daemon side: a populated audit trail and an enrolled device.
        const paths = cordonPaths({ CORDON_HOME: home });
        const db = openDatabase(paths.databaseFile);
        const log = createAuditLog(db);
        for (let i = 0; i < FIRST; i += 200) log.appendBatch(Array.from({ length: 200 }, (_, j) => decisionInput({ action: (i + j) % 5 === 0 ? 'deny' : 'allow' })));
        let server = await startServer(dbArg, 0);
        procs.push(server.proc);
        const url = `http://127.0.0.1:${server.port}`;
        const { secret } = await store.credentials.createEnrollSecret({}, Date.now());
        const keyManager = createAgentKeyManager({ keyStore, dataDir: paths.dataDir });
        const { deviceId } = await enrollDevice({ db, keyManager, keyStore, serverUrl: url, secret, fetch, agentVersion: 'test' });
        await keyManager.flush();
        const count = async (): Promise<number> => (await store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events WHERE device_id = ?', [deviceId]))?.n ?? 0;
        const clientEnv = { CORDON_HOME: home, CORDON_KEYCHAIN_SERVICE: keyStore.service, FLEET_URL: url, BATCH_SIZE: '20' };

        let client = run(CLIENT_MAIN, [], clientEnv);
        procs.push(client);
        // Kill the server while batches are flowing.
        await waitFor(async () => (await count()) >= FIRST * 0.2, 30_000, () => `no progress: ${client.output()} ${server.proc.output()}`);
        await kill(server.proc);
        const atServerKill = await count();
        assert.ok(atServerKill > 0 && atServerKill < FIRST, `server killed mid-stream (${atServerKill})`);
        await new Promise((r) => setTimeout(r, 300));
        server = await startServer(dbArg, server.port);
        procs.push(server.proc);

        // Kill the client while it is syncing again.
        await waitFor(async () => (await count()) >= Math.max(atServerKill + 100, FIRST * 0.6), 30_000, () => `no progress after the server restart: ${client.output()}`);
        await kill(client);
        const atClientKill = await count();
        assert.ok(atClientKill < FIRST, `client killed mid-sync (${atClientKill})`);
        // More events while the client is down, then a restarted client picks everything up.
        for (let i = 0; i < SECOND; i += 200) log.appendBatch(Array.from({ length: 200 }, () => decisionInput()));
        log.append('settings.changed', 'one more non-decision event', {});
        const total = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n ?? 0;
        assert.equal(total, FIRST + SECOND + 1);
        client = run(CLIENT_MAIN, [], clientEnv);
        procs.push(client);
        await waitFor(async () => (await count()) >= total, 60_000, () => `stuck at ${'?'}: ${client.output()}`);
        await waitFor(() => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sync_outbox').get()?.n === 0, 20_000, () => 'the outbox did not drain');

        const stats = await store.driver.get<{ n: number; distinct_ids: number; distinct_seqs: number }>(
          'SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_ids, count(DISTINCT seq) AS distinct_seqs FROM events WHERE device_id = ?',
          [deviceId],
        );
        assert.deepEqual(stats, { n: total, distinct_ids: total, distinct_seqs: total }, 'exactly once, no duplicates');
        const localIds = db.prepare<[], { id: string }>('SELECT id FROM events ORDER BY seq').all().map((r) => r.id);
        const remoteIds = (await store.driver.all<{ event_id: string }>('SELECT event_id FROM events WHERE device_id = ? ORDER BY seq', [deviceId])).map((r) => r.event_id);
        assert.deepEqual(remoteIds, localIds, 'the same events, in the same order');
        const device = await store.driver.get<{ cursor: number; chain_problems: number; head_hash: string }>('SELECT cursor, chain_problems, head_hash FROM devices WHERE id = ?', [deviceId]);
        assert.equal(device?.chain_problems, 0, 'every event verified and chained');
        assert.equal(device?.head_hash, log.head()?.hash);
        db.close();
      } finally {
        for (const p of procs) await kill(p);
        await store.close();
        await keyStore.purge();
        rmSync(home, { recursive: true, force: true });
        cleanup();
      }
    });
  });
}
