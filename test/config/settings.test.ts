import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSettings, redactSettingsReport } from '../../app/config/settings.ts';
import type { SettingsReport } from '../../app/api/settings.ts';
import { tempHome, type TempHome } from './helpers.ts';

function entry(report: SettingsReport, key: string) {
  const found = report.entries.find((e) => e.key === key);
  assert.ok(found, `no entry for ${key}`);
  return found;
}

describe('loadSettings layering', () => {
  let home: TempHome;
  before(async () => {
    home = await tempHome();
  });
  after(async () => {
    await home.cleanup();
  });

  it('gives built-in defaults and no problems when no file exists', async () => {
    const report = await loadSettings({ ...home.options, env: { ...home.env, CORDON_MANAGED_SETTINGS: `${home.root}/absent.json` } });
    assert.equal(report.effective.mode, 'monitor');
    assert.equal(report.effective.syncIntervalSeconds, 300);
    assert.deepEqual(report.problems.filter((p) => p.severity !== 'info'), []);
    assert.ok(report.entries.every((e) => e.source === 'default' && !e.locked));
    assert.equal(report.files.managed.present, false);
    assert.equal(report.files.managed.overridden, true);
    assert.equal(report.files.managed.path, `${home.root}/absent.json`);
    assert.equal(report.files.user, home.paths.userSettingsFile);
  });

  it('orders default < managed Defaults < user < managed, and locks managed keys', async () => {
    await home.writeManaged(
      JSON.stringify({
        mode: 'enforce',
        allowPause: false,
        Defaults: { logLevel: 'debug', proxyPort: 9100, approvalTimeoutSeconds: 60 },
      }),
    );
    await home.writeUser(`{
      // the user's own choices
      "mode": "monitor",
      "logLevel": "warn",
      "approvalTimeoutSeconds": 30,
    }`);
    const report = await loadSettings(home.options);
    const e = report.effective;
    assert.equal(e.mode, 'enforce', 'managed wins over user');
    assert.equal(e.allowPause, false);
    assert.equal(e.logLevel, 'warn', 'user wins over managed Defaults');
    assert.equal(e.approvalTimeoutSeconds, 30);
    assert.equal(e.proxyPort, 9100, 'managed Defaults win over built-in defaults');
    assert.equal(e.auditRetentionDays, 90);

    assert.deepEqual(
      { source: entry(report, 'mode').source, locked: entry(report, 'mode').locked, file: entry(report, 'mode').file },
      { source: 'managed', locked: true, file: home.managedFile },
    );
    assert.match(entry(report, 'mode').note ?? '', /locked by IT/);
    assert.equal(entry(report, 'logLevel').source, 'user');
    assert.equal(entry(report, 'logLevel').locked, false);
    assert.equal(entry(report, 'proxyPort').source, 'managed-default');
    assert.equal(entry(report, 'proxyPort').locked, false);
    assert.equal(entry(report, 'auditRetentionDays').source, 'default');

    const locked = report.problems.filter((p) => p.kind === 'locked');
    assert.deepEqual(locked.map((p) => ({ source: p.source, key: p.key, file: p.file, severity: p.severity })), [
      { source: 'user', key: 'mode', file: home.paths.userSettingsFile, severity: 'info' },
    ]);
  });

  it('reports an invalid value with file and key and takes the value from the layer below', async () => {
    await home.writeManaged(JSON.stringify({ syncIntervalSeconds: 5, Defaults: { proxyPort: 9100 } }));
    await home.writeUser(JSON.stringify({ proxyPort: 'eighty', logLevel: 'loud', tlsInspectionHosts: ['api.openai.com', 'https://bad/'] }));
    const report = await loadSettings(home.options);
    assert.equal(report.effective.proxyPort, 9100, 'invalid user value falls to managed Defaults');
    assert.equal(report.effective.logLevel, 'info', 'invalid user value falls to the built-in default');
    assert.deepEqual(report.effective.tlsInspectionHosts, [], 'an invalid array is not applied in part');
    assert.equal(report.effective.syncIntervalSeconds, 300);

    const invalid = report.problems.filter((p) => p.kind === 'invalid');
    const byKey = new Map(invalid.map((p) => [p.key, p]));
    assert.equal(byKey.get('proxyPort')?.file, home.paths.userSettingsFile);
    assert.equal(byKey.get('proxyPort')?.source, 'user');
    assert.match(byKey.get('proxyPort')?.message ?? '', /integer/);
    assert.match(byKey.get('logLevel')?.message ?? '', /one of: debug, info, warn, error/);
    assert.match(byKey.get('tlsInspectionHosts')?.message ?? '', /item 1/);
    assert.equal(byKey.get('syncIntervalSeconds')?.source, 'managed');
    assert.equal(byKey.get('syncIntervalSeconds')?.file, home.managedFile);
    assert.match(byKey.get('syncIntervalSeconds')?.message ?? '', />= 30/);

    assert.match(entry(report, 'proxyPort').error ?? '', /managed-default value/);
    assert.equal(entry(report, 'proxyPort').source, 'managed-default');
    // An invalid IT value keeps the key locked: the user cannot slip in under a broken lock.
    assert.equal(entry(report, 'syncIntervalSeconds').locked, true);
    assert.equal(entry(report, 'syncIntervalSeconds').source, 'default');
  });

  it('keeps the valid keys beside an invalid one', async () => {
    await home.writeManaged('{}');
    await home.writeUser(JSON.stringify({ mode: 'enforce', proxyPort: -1, watchEnabled: false }));
    const report = await loadSettings(home.options);
    assert.equal(report.effective.mode, 'enforce');
    assert.equal(report.effective.watchEnabled, false);
    assert.equal(report.effective.proxyPort, 0);
  });

  it('reports unknown keys (with a suggestion) without blocking the rest', async () => {
    await home.writeManaged(JSON.stringify({ Mode: 'enforce', Defaults: { logLevle: 'debug' } }));
    await home.writeUser(JSON.stringify({ $schema: 'https://cordon.dev/schemas/settings.schema.json', syncIntervalSecond: 60, logLevel: 'error' }));
    const report = await loadSettings(home.options);
    assert.equal(report.effective.logLevel, 'error');
    assert.equal(report.effective.mode, 'monitor');
    const unknown = report.problems.filter((p) => p.kind === 'unknown-key');
    assert.deepEqual(unknown.map((p) => [p.source, p.key, p.severity]).sort(), [
      ['managed', 'Defaults.logLevle', 'warning'],
      ['managed', 'Mode', 'warning'],
      ['user', 'syncIntervalSecond', 'warning'],
    ]);
    assert.match(unknown.find((p) => p.key === 'Mode')?.message ?? '', /did you mean "mode"/);
  });

  it('reports a malformed user file with line and column and uses an empty user layer', async () => {
    await home.writeManaged(JSON.stringify({ Defaults: { logLevel: 'debug' } }));
    await home.writeUser('{\n  "logLevel": "warn"\n  "mode": "enforce"\n}\n');
    const report = await loadSettings(home.options);
    const parse = report.problems.filter((p) => p.kind === 'parse');
    assert.equal(parse.length, 1);
    assert.equal(parse[0]?.file, home.paths.userSettingsFile);
    assert.equal(parse[0]?.key, null);
    assert.match(parse[0]?.message ?? '', /comma expected at line 3, column 3/);
    assert.equal(report.effective.logLevel, 'debug');
    assert.equal(report.effective.mode, 'monitor');
  });

  it('reports a managed file whose root is not an object', async () => {
    await home.writeManaged('["mode", "enforce"]');
    await home.writeUser('{}');
    const report = await loadSettings(home.options);
    const problem = report.problems.find((p) => p.kind === 'parse');
    assert.equal(problem?.source, 'managed');
    assert.match(problem?.message ?? '', /found an array/);
    assert.equal(report.effective.mode, 'monitor');
  });

  it('treats a "__proto__" key as an unknown key, never as a prototype', async () => {
    await home.writeManaged('{}');
    await home.writeUser('{"__proto__": {"mode": "enforce"}, "constructor": 1}');
    const report = await loadSettings(home.options);
    assert.equal(report.effective.mode, 'monitor');
    assert.deepEqual(report.problems.filter((p) => p.kind === 'unknown-key').map((p) => p.key).sort(), ['__proto__', 'constructor']);
  });

  it('never shows the enroll secret', async () => {
    await home.writeManaged(JSON.stringify({ enrollSecret: 'managed-secret-1234' }));
    await home.writeUser(JSON.stringify({ enrollSecret: 'user-secret-5678' }));
    const report = await loadSettings(home.options);
    assert.equal(report.effective.enrollSecret, 'managed-secret-1234', 'the daemon gets the real value');
    assert.equal(entry(report, 'enrollSecret').value, '<set>');
    assert.equal(entry(report, 'enrollSecret').secret, true);
    const printed = JSON.stringify(redactSettingsReport(report));
    assert.doesNotMatch(printed, /secret-1234|secret-5678/);
    assert.equal(redactSettingsReport(report).effective.enrollSecret, '<set>');
  });

  it('does not leak the secret in errors either', async () => {
    await home.writeManaged('{}');
    await home.writeUser(JSON.stringify({ enrollSecret: 'x'.repeat(5000) }));
    const report = await loadSettings(home.options);
    const printed = JSON.stringify(redactSettingsReport(report));
    assert.doesNotMatch(printed, /x{100}/);
    assert.ok(report.problems.some((p) => p.key === 'enrollSecret' && p.kind === 'invalid'));
    assert.equal(report.effective.enrollSecret, '');
  });
});
