import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { main } from '../../app/cli/main.ts';
import type { SettingsReport } from '../../app/api/settings.ts';
import { parseCliValue } from '../../app/cli/commands/settings.ts';
import { collector, tempHome, type TempHome } from './helpers.ts';

async function run(home: TempHome, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(argv, { stdout, stderr, env: home.env });
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('cordon settings (in process)', () => {
  let home: TempHome;
  before(async () => {
    home = await tempHome();
  });
  after(async () => {
    await home.cleanup();
  });

  it('--json shows each effective value, its source and the files, and exits 0 without problems', async () => {
    await home.writeManaged(JSON.stringify({ mode: 'enforce', Defaults: { proxyPort: 9100 } }));
    await home.writeUser('{ "logLevel": "debug", "enrollSecret": "s3cr3t-value" }');
    const { code, out, err } = await run(home, 'settings', '--json');
    assert.equal(err, '');
    assert.equal(code, 0);
    const report = JSON.parse(out) as SettingsReport;
    const byKey = new Map(report.entries.map((e) => [e.key, e]));
    assert.deepEqual([byKey.get('mode')?.value, byKey.get('mode')?.source, byKey.get('mode')?.locked], ['enforce', 'managed', true]);
    assert.deepEqual([byKey.get('logLevel')?.value, byKey.get('logLevel')?.source], ['debug', 'user']);
    assert.deepEqual([byKey.get('proxyPort')?.value, byKey.get('proxyPort')?.source], [9100, 'managed-default']);
    assert.deepEqual([byKey.get('syncIntervalSeconds')?.value, byKey.get('syncIntervalSeconds')?.source], [300, 'default']);
    assert.equal(byKey.get('enrollSecret')?.value, '<set>');
    assert.equal(report.effective.enrollSecret, '<set>');
    assert.doesNotMatch(out, /s3cr3t-value/);
    assert.deepEqual(report.files.managed, { path: home.managedFile, paths: [home.managedFile], overridden: true, present: true });
    assert.equal(report.files.user, home.paths.userSettingsFile);
  });

  it('exits 1 and names file and key when a setting is invalid; the table shows the same', async () => {
    await home.writeManaged('{}');
    await home.writeUser('{ "proxyPort": "eighty", "enrollSecret": "s3cr3t-value" }');
    const json = await run(home, 'settings', '--json');
    assert.equal(json.code, 1);
    const report = JSON.parse(json.out) as SettingsReport;
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error').map((p) => [p.source, p.file, p.key]),
      [['user', home.paths.userSettingsFile, 'proxyPort']],
    );
    const table = await run(home, 'settings');
    assert.equal(table.code, 1);
    assert.match(table.out, /^proxyPort\s+0\s+default/m);
    assert.match(table.out, /! .*settings\.json: proxyPort: must be integer; using the default value/);
    assert.match(table.out, /^enrollSecret\s+"<set>"\s+user/m);
    assert.doesNotMatch(table.out, /s3cr3t-value/);
  });

  it('set and unset round-trip through the JSONC file, keeping comments', async () => {
    await home.writeManaged('{}');
    await home.writeUser('{\n  // keep me\n  /* and me */ "logLevel": "warn",\n  "watchEnabled": true\n}\n');
    let r = await run(home, 'settings', 'set', 'syncIntervalSeconds', '600');
    assert.equal(r.code, 0, r.err);
    r = await run(home, 'settings', 'set', 'mode', 'enforce');
    assert.equal(r.code, 0, r.err);
    r = await run(home, 'settings', 'set', 'tlsInspectionHosts', '["api.openai.com"]');
    assert.equal(r.code, 0, r.err);
    r = await run(home, 'settings', 'unset', 'watchEnabled');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /watchEnabled removed/);

    const text = await readFile(home.paths.userSettingsFile, 'utf8');
    assert.match(text, /\/\/ keep me/);
    assert.match(text, /\/\* and me \*\//);
    assert.doesNotMatch(text, /watchEnabled/);
    const after = JSON.parse((await run(home, 'settings', '--json')).out) as SettingsReport;
    assert.equal(after.effective.syncIntervalSeconds, 600);
    assert.equal(after.effective.mode, 'enforce');
    assert.equal(after.effective.logLevel, 'warn');
    assert.deepEqual(after.effective.tlsInspectionHosts, ['api.openai.com']);
    assert.equal(after.effective.watchEnabled, true);
    assert.equal((await stat(home.paths.userSettingsFile)).mode & 0o077, 0, 'the file may hold the secret: private');

    r = await run(home, 'settings', 'unset', 'watchEnabled');
    assert.match(r.out, /was not set/);
  });

  it('refuses invalid values, unknown keys and IT-locked keys, leaving the file alone', async () => {
    await home.writeManaged(JSON.stringify({ mode: 'enforce' }));
    await home.writeUser('{ /* mine */ "logLevel": "warn" }\n');
    const before = await readFile(home.paths.userSettingsFile, 'utf8');
    const locked = await run(home, 'settings', 'set', 'mode', 'monitor');
    assert.equal(locked.code, 1);
    assert.match(locked.err, /mode is locked by IT .*\(ERR_SETTINGS_LOCKED\)/);
    const invalid = await run(home, 'settings', 'set', 'proxyPort', '70000');
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /proxyPort: must be <= 65535 \(ERR_SETTINGS_INVALID\)/);
    const unknown = await run(home, 'settings', 'set', 'proxyport', '1');
    assert.match(unknown.err, /unknown setting "proxyport".*ERR_SETTINGS_INVALID/);
    const negative = await run(home, 'settings', 'set', 'approvalTimeoutSeconds', '--', '-5');
    assert.match(negative.err, /must be >= 5/);
    const usage = await run(home, 'settings', 'set', 'mode');
    assert.equal(usage.code, 2);
    assert.equal(await readFile(home.paths.userSettingsFile, 'utf8'), before);
  });

  it('refuses to edit a user file it cannot parse', async () => {
    await home.writeManaged('{}');
    await home.writeUser('{ "logLevel": ');
    const r = await run(home, 'settings', 'set', 'logLevel', 'warn');
    assert.equal(r.code, 1);
    assert.match(r.err, /not valid JSON .*fix it first/);
    assert.equal(await readFile(home.paths.userSettingsFile, 'utf8'), '{ "logLevel": ');
  });

  it('never echoes a secret given to set', async () => {
    await home.writeManaged('{}');
    await home.writeUser('{}');
    const r = await run(home, 'settings', 'set', 'enrollSecret', 'top-secret-42');
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.out + r.err, /top-secret-42/);
    assert.match(r.out, /enrollSecret = <set>/);
  });

  it('prints the JSON Schema and the managed variant', async () => {
    const plain = JSON.parse((await run(home, 'settings', 'schema')).out) as { properties: Record<string, unknown> };
    assert.ok('fleetServerUrl' in plain.properties);
    assert.ok(!('Defaults' in plain.properties));
    const managed = JSON.parse((await run(home, 'settings', 'schema', '--managed')).out) as { properties: Record<string, unknown> };
    assert.ok('Defaults' in managed.properties);
  });

  it('parses VALUE as JSON when it parses, else as a string (string settings keep the text)', () => {
    assert.equal(parseCliValue('proxyPort', '8080'), 8080);
    assert.equal(parseCliValue('allowPause', 'false'), false);
    assert.deepEqual(parseCliValue('projectRoots', '["~/a"]'), ['~/a']);
    assert.equal(parseCliValue('mode', 'enforce'), 'enforce');
    assert.equal(parseCliValue('enrollSecret', '12345'), '12345');
    assert.equal(parseCliValue('enrollSecret', '"quoted"'), 'quoted');
    assert.equal(parseCliValue('projectRoots', '~/a'), '~/a');
  });
});
