// `cordon uninstall` end to end on a fixture home: two agents protected, keys in the real
// keychain, a real daemon running. Afterwards the agents' files are byte-identical to the
// originals, the keychain entries are gone, the daemon is stopped and the uninstall is in the
// audit trail. Also: a dry run changes nothing, IT-managed machines are refused without --force,
// and a failing step neither stops the others nor lets --purge lose the records.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { main } from '../../app/cli/main.ts';
import { createAgentKeyManager } from '../../app/identity/agentKeys.ts';
import { createCredentialStore } from '../../app/identity/credentials.ts';
import { keychainAccount, readKeysFile } from '../../app/identity/keyRecords.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { trustRecordsPath } from '../../app/identity/ca/trustStore.ts';
import type { UninstallReport } from '../../app/service/uninstall.ts';
import { openDatabaseReadOnly } from '../../app/store/database.ts';
import { saveToken, TOKEN_ACCOUNT } from '../../app/sync/state.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { startDaemonProcess } from '../helpers/daemonProcess.ts';
import { KEYRING_SKIP } from '../identity/helpers.ts';
import { adminGet, freshLocation, startTestServer } from '../server/helpers.ts';

const FIXTURES = new URL('../protect/fixtures/', import.meta.url).pathname;
const service = `dev.cordon.test.uninstall.${randomBytes(6).toString('hex')}`;
const keyStore = createOsKeyStore({ service });
const written = new Set<string>();
const temps: string[] = [];

after(async () => {
  if (!KEYRING_SKIP) for (const account of written) await keyStore.delete(account).catch(() => false);
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

type Machine = { home: string; env: NodeJS.ProcessEnv; originals: Map<string, Buffer> };

/** A fixture home with Claude Code's and Cursor's settings, and every Cordon path inside it. */
function machine(extra: NodeJS.ProcessEnv = {}): Machine {
  const home = mkdtempSync(join(tmpdir(), 'cordon-uninstall-'));
  temps.push(home);
  const originals = new Map<string, Buffer>();
  for (const [fixture, file] of [['claude-settings.json', '.claude/settings.json'], ['cursor-hooks.json', '.cursor/hooks.json']] as const) {
    const path = join(home, file);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(FIXTURES, fixture), path);
    originals.set(path, readFileSync(path));
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    CORDON_HOME: join(home, 'cordon'),
    CORDON_KEYCHAIN_SERVICE: service,
    CORDON_MANAGED_SETTINGS: join(home, 'managed.json'),
    CORDON_PROTECT_SYSTEM_ROOT: join(home, 'system'),
    ...extra,
  };
  return { home, env, originals };
}

async function cordon(m: Machine, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr, env: m.env, cwd: m.home });
  return { code, out, err };
}

async function protectBoth(m: Machine): Promise<void> {
  for (const agent of ['claude-code', 'cursor']) {
    const r = await cordon(m, 'agents', 'protect', agent, '--proxy', 'http://127.0.0.1:47001', '--ca', join(m.home, 'ca.pem'));
    assert.equal(r.code, 0, r.out + r.err);
  }
  for (const [path, original] of m.originals) assert.notDeepEqual(readFileSync(path), original, `${path} is protected`);
}

/** Agent and device keys, the CA key, an upstream credential and a fleet token, all in the real keychain. Returns their accounts. */
async function fillKeychain(m: Machine): Promise<string[]> {
  const dataDir = cordonPaths(m.env).dataDir;
  const proof = await cordon(m, 'dpop', 'proof', '--agent', 'claude-code', '--htm', 'GET', '--htu', 'https://api.example.com/');
  assert.equal(proof.code, 0, proof.err);
  const show = await cordon(m, 'ca', 'show', '--json');
  assert.equal(show.code, 0, show.err);
  await createAgentKeyManager({ keyStore, dataDir }).deviceSigner();
  await createCredentialStore(keyStore, dataDir).set('github', 'ghp_test_token', ['api.github.com']);
  await saveToken(keyStore, 'fleet-access-token');
  const accounts = [
    ...(await readKeysFile(dataDir)).keys.map(keychainAccount),
    `ca:${(JSON.parse(show.out) as { serial: string }).serial}`,
    'credential:github',
    TOKEN_ACCOUNT,
  ];
  for (const account of accounts) {
    written.add(account);
    assert.notEqual(await keyStore.get(account), null, `${account} is in the keychain`);
  }
  assert.equal(accounts.filter((a) => a.startsWith('dpop:') || a.startsWith('device:')).length, 2);
  return accounts;
}

function stepOf(report: UninstallReport, name: string): UninstallReport['steps'][number] {
  const step = report.steps.find((s) => s.step === name);
  assert.ok(step, `step ${name}`);
  return step;
}

describe('cordon uninstall', { skip: KEYRING_SKIP }, () => {
  it('restores both agents byte for byte, deletes every keychain entry, stops the daemon and records the uninstall', async () => {
    const m = machine();
    await protectBoth(m);
    const accounts = await fillKeychain(m);
    const paths = cordonPaths(m.env);
    const daemon = await startDaemonProcess({ home: m.home, cordonHome: m.env.CORDON_HOME!, env: { CORDON_KEYCHAIN_SERVICE: service } });
    try {
      const run = await cordon(m, 'uninstall', '--remove-keys', '--json');
      const report = JSON.parse(run.out) as UninstallReport;
      assert.equal(run.code, 0, JSON.stringify(report, null, 2) + run.err);
      assert.deepEqual(report.steps.map((s) => [s.step, s.status]), [
        ['record', 'done'], ['sync', 'skipped'], ['service', 'done'], ['daemon', 'done'], ['agents', 'done'], ['ca', 'done'], ['keys', 'done'], ['purge', 'skipped'],
      ]);
      assert.equal((await daemon.exited).code, 0, 'the daemon stopped cleanly');
      assert.match(stepOf(report, 'daemon').message, new RegExp(`stopped the daemon \\(pid ${daemon.child.pid}\\)`));
      assert.match(stepOf(report, 'agents').message, /restored 2 agent setting/);

      for (const [path, original] of m.originals) assert.deepEqual(readFileSync(path), original, `${path} is byte-identical to the original`);
      for (const account of accounts) assert.equal(await keyStore.get(account), null, `${account} is gone from the keychain`);
      assert.deepEqual((await readKeysFile(paths.dataDir)).keys, []);
      assert.deepEqual(await createCredentialStore(keyStore, paths.dataDir).list(), []);

      const db = openDatabaseReadOnly(paths.databaseFile);
      try {
        const rows = db.prepare<[], { seq: number; type: string; data: string }>("SELECT seq, type, data FROM events WHERE type IN ('cordon.uninstalled', 'daemon.stopped') ORDER BY seq").all();
        const uninstalled = rows.find((r) => r.type === 'cordon.uninstalled');
        assert.ok(uninstalled, 'the uninstall is in the audit trail');
        assert.equal((JSON.parse(uninstalled.data) as { removeKeys: boolean }).removeKeys, true);
        const stop = rows.at(-1)!;
        assert.equal(stop.type, 'daemon.stopped');
        assert.ok(stop.seq > uninstalled.seq, 'recorded before the daemon stopped');
        assert.equal((JSON.parse(stop.data) as { how: string }).how, 'control-api');
      } finally {
        db.close();
      }

      // Again, with --purge: nothing left to undo, then Cordon's directories go.
      const purge = await cordon(m, 'uninstall', '--purge');
      assert.equal(purge.code, 0, purge.out + purge.err);
      assert.match(purge.out, /\[done\] daemon: no daemon is running/);
      assert.match(purge.out, /\[done\] agents: no agent was protected/);
      for (const dir of [paths.configDir, paths.dataDir, paths.runtimeDir, join(m.env.CORDON_HOME!, 'cache')]) assert.equal(existsSync(dir), false, `${dir} is removed`);
      for (const [path, original] of m.originals) assert.deepEqual(readFileSync(path), original);
    } finally {
      await daemon.cleanup();
    }
  });

  it('--dry-run changes nothing', async () => {
    const m = machine();
    await protectBoth(m);
    const accounts = await fillKeychain(m);
    const paths = cordonPaths(m.env);
    const protectedBytes = new Map([...m.originals.keys()].map((p) => [p, readFileSync(p)]));
    const run = await cordon(m, 'uninstall', '--dry-run', '--remove-keys', '--purge', '--json');
    assert.equal(run.code, 0, run.out + run.err);
    const report = JSON.parse(run.out) as UninstallReport;
    assert.equal(report.dryRun, true);
    assert.equal(stepOf(report, 'agents').status, 'dry-run');
    assert.equal(stepOf(report, 'agents').details.length, 2);
    assert.equal(stepOf(report, 'keys').status, 'dry-run');
    assert.deepEqual([...stepOf(report, 'keys').details].sort(), [...accounts].sort());
    assert.equal(stepOf(report, 'purge').status, 'dry-run');
    for (const [path, bytes] of protectedBytes) assert.deepEqual(readFileSync(path), bytes);
    for (const account of accounts) assert.notEqual(await keyStore.get(account), null);
    assert.ok(existsSync(paths.dataDir) && existsSync(paths.databaseFile) === false, 'no audit trail was created either');

    // Clean up for real, so no keychain entry outlives the test.
    assert.equal((await cordon(m, 'uninstall', '--remove-keys')).code, 0);
  });

  it('refuses an IT-managed machine without --force, and says MDM should remove it', async () => {
    const m = machine();
    writeFileSync(m.env.CORDON_MANAGED_SETTINGS!, JSON.stringify({ mode: 'enforce' }));
    await protectBoth(m);
    const refused = await cordon(m, 'uninstall');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /IT manages Cordon on this machine .*managed\.json.*: refusing to uninstall/);
    assert.match(refused.err, /hint: .*MDM.*--force/);
    for (const [path, original] of m.originals) assert.notDeepEqual(readFileSync(path), original, 'nothing was restored');

    const forced = await cordon(m, 'uninstall', '--force');
    assert.equal(forced.code, 0, forced.out + forced.err);
    for (const [path, original] of m.originals) assert.deepEqual(readFileSync(path), original);
  });

  it('on an enrolled device the last sync takes cordon.uninstalled to the fleet server', async () => {
    const { location, cleanup } = await freshLocation('sqlite');
    const server = await startTestServer(location, { cleanup });
    try {
      const m = machine();
      const enroll = await cordon(m, 'enroll', '--server', server.url, '--secret', server.enrollSecret, '--json');
      assert.equal(enroll.code, 0, enroll.out + enroll.err);
      const deviceId = (JSON.parse(enroll.out) as { deviceId: string }).deviceId;
      for (const record of (await readKeysFile(cordonPaths(m.env).dataDir)).keys) written.add(keychainAccount(record));
      written.add(TOKEN_ACCOUNT);

      const run = await cordon(m, 'uninstall', '--remove-keys', '--json');
      const report = JSON.parse(run.out) as UninstallReport;
      assert.equal(run.code, 0, JSON.stringify(report, null, 2));
      assert.equal(stepOf(report, 'sync').status, 'done', stepOf(report, 'sync').message);
      const audit = await adminGet(server, '/admin/v1/audit?type=cordon.uninstalled');
      assert.equal(audit.status, 200, audit.text);
      assert.ok(audit.text.includes('cordon.uninstalled') && audit.text.includes(deviceId), audit.text.slice(0, 500));
      assert.equal(await keyStore.get(TOKEN_ACCOUNT), null, 'the fleet token is gone from the keychain');
    } finally {
      await server.close();
    }
  });

  it('a failing step is reported, the others still run, and --purge keeps the records it needs', async () => {
    const m = machine();
    await protectBoth(m);
    const paths = cordonPaths(m.env);
    // A trust record for a store this machine cannot change (a Windows store, on Linux).
    mkdirSync(dirname(trustRecordsPath(paths.dataDir)), { recursive: true });
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(trustRecordsPath(paths.dataDir), JSON.stringify({ version: 1, entries: [{ store: 'windows-user-root', fingerprint256: 'a'.repeat(64), sha1: 'B'.repeat(40), subject: 'CN=Cordon', file: null, keychain: null, addedAt: new Date().toISOString(), pem }] }));

    const run = await cordon(m, 'uninstall', '--purge');
    assert.equal(run.code, 1);
    assert.match(run.err, /\[failed\] ca: /);
    assert.match(run.err, /\[done\] agents: restored 2 agent setting/);
    assert.match(run.err, /\[failed\] purge: kept .*: ca failed/);
    assert.match(run.err, /uninstall incomplete: ca, purge failed/);
    for (const [path, original] of m.originals) assert.deepEqual(readFileSync(path), original, 'the agents were restored anyway');
    assert.ok(existsSync(trustRecordsPath(paths.dataDir)), 'the trust record survives for a later attempt');
  });
});
