// fixtures/registry-policies.txt is `reg query HKLM\SOFTWARE\Policies\Cordon /s` output in reg.exe's
// layout: CRLF lines, a blank line before each key, values indented by four spaces with NAME, TYPE
// and DATA separated by four spaces, REG_DWORD/REG_QWORD as 0x hex, REG_MULTI_SZ items joined by "\0".
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import {
  parseRegQueryOutput,
  readWindowsManaged,
  registryToManagedLayers,
  registryValueToJson,
} from '../../app/config/managed/win32.ts';
import { loadSettings } from '../../app/config/settings.ts';
import type { Layer } from '../../app/config/layers.ts';
import { tempHome } from './helpers.ts';

const ROOT = 'HKLM\\SOFTWARE\\Policies\\Cordon';
const fixtureText = (): Promise<string> => readFile(new URL('./fixtures/registry-policies.txt', import.meta.url), 'utf8');

function values(layer: Layer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of layer) out[key] = 'value' in entry ? entry.value : { error: entry.error };
  return out;
}

describe('Windows policy registry', () => {
  it('parses reg query /s output into keys and typed values', async () => {
    const keys = parseRegQueryOutput(await fixtureText());
    assert.deepEqual(
      keys.map((k) => k.path),
      [ROOT, `${ROOT}\\blockedAgents`, `${ROOT}\\Defaults`],
    );
    const root = keys[0];
    assert.deepEqual(root?.values.find((v) => v.name === 'allowPause'), { name: 'allowPause', type: 'REG_DWORD', data: '0x0' });
    assert.deepEqual(root?.values.find((v) => v.name === 'tlsInspectionHosts'), {
      name: 'tlsInspectionHosts',
      type: 'REG_MULTI_SZ',
      data: 'api.openai.com\\0*.anthropic.com',
    });
    assert.equal(root?.values.find((v) => v.name === 'enrollSecretFile')?.data, 'C:\\ProgramData\\Cordon\\enroll.secret');
    assert.deepEqual(keys[2]?.values.find((v) => v.name === 'allowedAgents'), { name: 'allowedAgents', type: 'REG_MULTI_SZ', data: '' });
  });

  it('maps registry types to the schema types, with clear errors where they cannot map', async () => {
    const layers = registryToManagedLayers(parseRegQueryOutput(await fixtureText()));
    assert.deepEqual(values(layers.enforced), {
      fleetServerUrl: 'https://fleet.example.com',
      mode: 'enforce',
      allowPause: false,
      syncIntervalSeconds: 600,
      tlsInspectionHosts: ['api.openai.com', '*.anthropic.com'],
      lockedPolicy: { rules: [{ match: 'mcp:*', action: 'deny' }] },
      projectRoots: ['C:\\src', '~/work'],
      enrollSecretFile: 'C:\\ProgramData\\Cordon\\enroll.secret',
      watchEnabled: { error: 'expected a REG_DWORD 0 or 1 (or a REG_SZ "true"/"false")' },
      proxyPort: { error: 'REG_BINARY values are not supported: expected REG_DWORD' },
      logLevell: 'debug',
      blockedAgents: ['cline', 'aider'],
    });
    assert.equal(layers.enforced.get('mode')?.label, 'Mode', 'value names match case-insensitively; the label keeps the spelling');
    assert.equal(layers.enforced.get('blockedAgents')?.file, `${ROOT}\\blockedAgents`);
    assert.deepEqual(values(layers.defaults), { logLevel: 'debug', approvalTimeoutSeconds: 60, allowedAgents: [] });
    assert.equal(layers.defaults.get('logLevel')?.file, `${ROOT}\\Defaults`);
    assert.deepEqual(layers.problems, []);
  });

  it('converts each value type per schema type', () => {
    const v = (type: string, data: string) => ({ name: 'x', type, data });
    assert.deepEqual(registryValueToJson('integer', v('REG_DWORD', '0xffffffff')), { value: 4294967295 });
    assert.deepEqual(registryValueToJson('integer', v('REG_QWORD', '0x1f')), { value: 31 });
    assert.deepEqual(registryValueToJson('integer', v('REG_QWORD', '0xffffffffffffffff')), { error: 'REG_QWORD data is not a number' });
    assert.deepEqual(registryValueToJson('integer', v('REG_SZ', '120')), { value: 120 });
    assert.match((registryValueToJson('integer', v('REG_SZ', '2m')) as { error: string }).error, /decimal integer/);
    assert.deepEqual(registryValueToJson('boolean', v('REG_DWORD', '0x1')), { value: true });
    assert.deepEqual(registryValueToJson('boolean', v('REG_DWORD', '0x2')), { error: 'REG_DWORD must be 0 or 1 for a boolean' });
    assert.deepEqual(registryValueToJson('boolean', v('REG_SZ', 'False')), { value: false });
    assert.deepEqual(registryValueToJson('string', v('REG_DWORD', '0x1')), { error: 'expected REG_SZ, found REG_DWORD' });
    assert.deepEqual(registryValueToJson('string', v('REG_MULTI_SZ', 'a')), { error: 'expected REG_SZ, found REG_MULTI_SZ' });
    assert.deepEqual(registryValueToJson('array', v('REG_SZ', '["a","b"]')), { value: ['a', 'b'] });
    assert.match((registryValueToJson('array', v('REG_SZ', 'a,b')) as { error: string }).error, /not valid JSON/);
    assert.match((registryValueToJson('array', v('REG_SZ', '{"a":1}')) as { error: string }).error, /JSON array/);
    assert.match((registryValueToJson('object', v('REG_SZ', '[1]')) as { error: string }).error, /JSON object/);
    assert.deepEqual(registryValueToJson('object', v('REG_SZ', '{"__proto__":{"x":1}}')), { value: JSON.parse('{"__proto__":{"x":1}}') as unknown });
    assert.match((registryValueToJson('array', v('REG_NONE', '')) as { error: string }).error, /REG_NONE values are not supported/);
  });

  it('treats a missing key as no managed settings and a failed query as a reported error', async () => {
    const missing = await readWindowsManaged(async () => ({ kind: 'missing' }));
    assert.deepEqual([missing.present, missing.layers.enforced.size, missing.layers.problems], [false, 0, []]);
    const failed = await readWindowsManaged(async () => ({ kind: 'error', message: 'reg query failed: ERROR: Access is denied.' }));
    assert.equal(failed.present, true);
    assert.deepEqual(failed.layers.problems.map((p) => [p.kind, p.file, p.message]), [['unreadable', ROOT, 'reg query failed: ERROR: Access is denied.']]);
  });

  it('reports unknown subkeys and a list subkey shadowed by a value', () => {
    const text = [
      '',
      `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Cordon`,
      '    blockedAgents    REG_MULTI_SZ    codex',
      '',
      `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Cordon\\blockedAgents`,
      '    1    REG_SZ    cline',
      '',
      `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Cordon\\Extras`,
      '    a    REG_SZ    b',
      '',
    ].join('\n');
    const layers = registryToManagedLayers(parseRegQueryOutput(text));
    assert.deepEqual(values(layers.enforced), { blockedAgents: ['codex'] });
    assert.deepEqual(layers.problems.map((p) => [p.kind, p.file]), [
      ['invalid', `${ROOT}\\blockedAgents`],
      ['unknown-key', `${ROOT}\\Extras`],
    ]);
  });

  it('feeds loadSettings on win32: invalid registry values are reported with the key path and fall back', async () => {
    const home = await tempHome();
    try {
      const stdout = await fixtureText();
      await home.writeUser(JSON.stringify({ mode: 'monitor', logLevel: 'error', watchEnabled: false }));
      const env = { ...home.env };
      delete env.CORDON_MANAGED_SETTINGS;
      const report = await loadSettings({ ...home.options, env, platform: 'win32', runRegistryQuery: async () => ({ kind: 'ok', stdout }) });
      assert.equal(report.effective.mode, 'enforce');
      assert.equal(report.effective.logLevel, 'error', 'user beats the Defaults subkey');
      assert.equal(report.effective.approvalTimeoutSeconds, 60);
      assert.equal(report.effective.watchEnabled, true, 'locked by an invalid IT value: the built-in default, not the user value');
      assert.deepEqual(report.effective.blockedAgents, ['cline', 'aider']);
      const watch = report.problems.find((p) => p.key === 'watchEnabled' && p.kind === 'invalid');
      assert.equal(watch?.file, ROOT);
      assert.equal(watch?.source, 'managed');
      assert.ok(report.problems.some((p) => p.kind === 'unknown-key' && p.key === 'logLevell' && /did you mean "logLevel"/.test(p.message)));
      assert.deepEqual(report.files.managed, { path: ROOT, paths: [ROOT], overridden: false, present: true });
    } finally {
      await home.cleanup();
    }
  });
});
