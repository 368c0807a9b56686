/**
 * `cordon enroll`, `cordon sync status` and `cordon sync now`, run in-process against a real
 * fleet server and the real keychain: the token lands in the keychain (never on disk or in
 * output), the server URL in the user settings, and a CLI sync uploads the daemon's events.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CoreError } from '../../app/api/errors.ts';
import { fleetCommands } from '../../app/cli/commands/fleet.ts';
import { UsageError, type ParsedArgs } from '../../app/cli/command.ts';
import { createAuditLog } from '../../app/audit/auditLog.ts';
import { keychainAccount, readKeysFile } from '../../app/identity/keyRecords.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { openDatabase } from '../../app/store/database.ts';
import { TOKEN_ACCOUNT } from '../../app/sync/state.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { decisionInput } from '../audit/fixtures.ts';
import { KEYRING_SKIP } from '../identity/helpers.ts';
import { freshLocation, startTestServer, type TestServer } from '../server/helpers.ts';

describe('cordon enroll and cordon sync', { skip: KEYRING_SKIP }, () => {
  const home = mkdtempSync(join(tmpdir(), 'cordon-fleetcli-'));
  const service = `dev.cordon.test.${randomBytes(6).toString('hex')}`;
  const env = { CORDON_HOME: home, CORDON_KEYCHAIN_SERVICE: service, CORDON_MANAGED_SETTINGS: join(home, 'managed.json'), HOME: home };
  const paths = cordonPaths(env);
  let server: TestServer;

  const cordon = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const sink = (append: (s: string) => void) => new Writable({ write(chunk, _e, done) { append(String(chunk)); done(); } });
    const command = fleetCommands.find((c) => argv.slice(0, c.name.split(' ').length).join(' ') === c.name);
    if (!command) throw new Error(`no command ${argv.join(' ')}`);
    const ctx = { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env, paths, cwd: home };
    try {
      const parsed = parseArgs({ args: argv.slice(command.name.split(' ').length), options: command.options, strict: true, allowPositionals: false });
      const args: ParsedArgs = { values: parsed.values as ParsedArgs['values'], positionals: [], rest: [] };
      return { code: await command.run(ctx, args), out, err };
    } catch (error) {
      if (error instanceof UsageError) return { code: 2, out, err: err + error.message };
      if (error instanceof CoreError) return { code: 1, out, err: err + error.message };
      throw error;
    }
  };

  before(async () => {
    const { location, cleanup } = await freshLocation('sqlite');
    server = await startTestServer(location, { cleanup });
  });
  after(async () => {
    await server?.close();
    const store = createOsKeyStore({ service });
    const file = await readKeysFile(paths.dataDir).catch(() => ({ keys: [] }));
    for (const record of file.keys) await store.delete(keychainAccount(record)).catch(() => false);
    await store.delete(TOKEN_ACCOUNT).catch(() => false);
    rmSync(home, { recursive: true, force: true });
  });

  test('usage and refusals: missing secret, non-https remote server, wrong secret', async () => {
    assert.equal((await cordon('enroll', '--server', server.url)).code, 2);
    const insecure = await cordon('enroll', '--server', 'http://fleet.example.com', '--secret', 'x');
    assert.equal(insecure.code, 1);
    assert.match(insecure.err, /https/);
    const wrong = await cordon('enroll', '--server', server.url, '--secret', 'ces_wrong-secret-value');
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /refused the enroll secret/);
    assert.ok(!wrong.err.includes('ces_wrong-secret-value'), 'the secret is never echoed');
  });

  test('enroll stores the token in the keychain, the device id in the database, the URL in settings', async () => {
    const r = await cordon('enroll', '--server', server.url, '--secret', server.enrollSecret, '--json');
    assert.equal(r.code, 0, r.err);
    const enrolled = JSON.parse(r.out) as { deviceId: string; serverUrl: string };
    assert.match(enrolled.deviceId, /^dev_/);
    assert.ok(!r.out.includes('cdt_'), 'the token is not printed');
    assert.match(await createOsKeyStore({ service }).get(TOKEN_ACCOUNT) ?? '', /^cdt_/);
    assert.equal((JSON.parse(readFileSync(paths.userSettingsFile, 'utf8')) as { fleetServerUrl: string }).fleetServerUrl, server.url);
    const status = await cordon('sync', 'status', '--json');
    assert.equal(status.code, 0, status.err);
    const s = JSON.parse(status.out) as { deviceId: string; phase: string; outbox: { pending: number } };
    assert.equal(s.deviceId, enrolled.deviceId);
    assert.equal(s.phase, 'idle');
  });

  test('sync now uploads the daemon database; status shows the result', async () => {
    const db = openDatabase(paths.databaseFile);
    createAuditLog(db).appendBatch(Array.from({ length: 12 }, () => decisionInput()));
    db.close();
    const r = await cordon('sync', 'now', '--json');
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(r.out) as { ok: boolean; sent: number; pending: number };
    assert.deepEqual([result.ok, result.sent, result.pending], [true, 12, 0]);
    const text = await cordon('sync', 'status');
    assert.match(text.out, /phase: +idle/);
    assert.match(text.out, /0 event\(s\) pending/);
    assert.match(text.out, /never decisions/);
    const count = await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM events');
    assert.equal(count?.n, 12);
  });
});
