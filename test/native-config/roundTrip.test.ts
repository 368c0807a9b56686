// A value set through each artifact's form is read back by the daemon's reader: the Linux file for
// real, the macOS payload as a managed-preferences plist, and the Windows policies as the registry
// values the ADMX would write (derived by parsing the generated ADMX, rendered as reg.exe output).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { build as buildPlist, parse as parsePlist, type PlistValue } from 'plist';
import type { SettingKey, SettingsReport } from '../../app/api/settings.ts';
import { MANAGED_DEFAULTS_KEY, SECRET_SETTING_KEYS, SETTING_KEYS } from '../../app/api/settings.ts';
import type { RegQueryRunner } from '../../app/config/managed/win32.ts';
import { settingSchema } from '../../app/config/schema.ts';
import { loadSettings } from '../../app/config/settings.ts';
import { validateSettingValue } from '../../app/config/validate.ts';
import { repoFile, SAMPLE, tempDir } from './helpers.ts';

type Dict = Record<string, unknown>;
const asDict = (value: unknown): Dict => value as Dict;

/** Every key reads back as SAMPLE, from the expected layer, with no problem beyond the override notice. */
function assertReadBack(report: SettingsReport, sourceOf: (key: SettingKey) => 'managed' | 'managed-default'): void {
  assert.deepEqual(
    report.problems.filter((p) => p.kind !== 'override' || p.severity !== 'info'),
    [],
  );
  for (const key of SETTING_KEYS) {
    assert.deepEqual(report.effective[key], SAMPLE[key], key);
    const entry = report.entries.find((e) => e.key === key);
    assert.equal(entry?.source, sourceOf(key), `${key} source`);
    assert.equal(entry?.locked, sourceOf(key) === 'managed', `${key} locked`);
  }
}

describe('round trips through each artifact', () => {
  it('the sample values are valid and differ from every default (so a read-back proves something)', () => {
    for (const key of SETTING_KEYS) {
      assert.equal(validateSettingValue(key, SAMPLE[key]), null, key);
      assert.notDeepEqual(SAMPLE[key], settingSchema(key).default, key);
    }
  });

  it('Linux: managed.json with every value changed is read from a real file', async () => {
    const doc = asDict(JSON.parse((await repoFile('native-config/linux/managed.json')).toString('utf8')));
    const defaults = asDict(doc[MANAGED_DEFAULTS_KEY]);
    for (const key of SETTING_KEYS) (Object.hasOwn(doc, key) ? doc : defaults)[key] = SAMPLE[key];
    const dir = await tempDir();
    try {
      const file = join(dir.root, 'managed.json');
      await writeFile(file, JSON.stringify(doc, null, 2));
      const report = await loadSettings({ paths: dir.paths, env: { CORDON_MANAGED_SETTINGS: file }, platform: 'linux' });
      assert.equal(report.files.managed.path, file);
      assertReadBack(report, (key) => (Object.hasOwn(defaults, key) ? 'managed-default' : 'managed'));
    } finally {
      await dir.cleanup();
    }
  });

  it('macOS: the profile payload with every value changed, written as a plist, is read back', async () => {
    const profile = asDict(parsePlist((await repoFile('native-config/macos/dev.cordon.agent.mobileconfig')).toString('utf8')));
    const payload = asDict((profile.PayloadContent as unknown[])[0]);
    const forced = asDict(asDict(payload.PayloadContent)['dev.cordon.agent']).Forced as unknown[];
    const settings = asDict(asDict(forced[0]).mcx_preference_settings);
    const defaults = asDict(settings[MANAGED_DEFAULTS_KEY]);
    for (const key of SETTING_KEYS) (Object.hasOwn(settings, key) ? settings : defaults)[key] = SAMPLE[key];
    const dir = await tempDir();
    try {
      const file = join(dir.root, 'dev.cordon.agent.plist');
      await writeFile(file, buildPlist(settings as Record<string, PlistValue>));
      const report = await loadSettings({ paths: dir.paths, env: { CORDON_MANAGED_SETTINGS: file }, platform: 'linux' });
      assertReadBack(report, (key) => (Object.hasOwn(defaults, key) ? 'managed-default' : 'managed'));
    } finally {
      await dir.cleanup();
    }
  });

  for (const scope of ['enforced', 'defaults'] as const) {
    it(`Windows: the registry values each ${scope} ADMX policy writes are read back`, async () => {
      const admx = (await repoFile('native-config/windows/Cordon.admx')).toString('utf8');
      const registry = registryWrites(admx, scope === 'defaults');
      const output = renderRegQuery(registry);
      const queried: string[] = [];
      const runRegistryQuery: RegQueryRunner = async (key) => {
        queried.push(key);
        return { kind: 'ok', stdout: output };
      };
      const dir = await tempDir();
      try {
        const report = await loadSettings({ paths: dir.paths, env: {}, platform: 'win32', runRegistryQuery });
        assert.deepEqual(queried, ['HKLM\\SOFTWARE\\Policies\\Cordon']);
        assertReadBack(report, () => (scope === 'defaults' ? 'managed-default' : 'managed'));
        for (const key of SECRET_SETTING_KEYS) assert.notEqual(report.entries.find((e) => e.key === key)?.value, SAMPLE[key], 'secret redacted');
      } finally {
        await dir.cleanup();
      }
    });
  }
});

type RegValue = { name: string; type: string; data: string };

/**
 * What Group Policy writes when each policy (of one scope) is Enabled with SAMPLE's value, read off
 * the ADMX itself: enabledValue/disabledValue, decimal, enum items, text, list subkeys.
 */
function registryWrites(admxText: string, defaultsScope: boolean): Map<string, RegValue[]> {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'policy' || name === 'item' });
  const admx = asDict(asDict(parser.parse(admxText)).policyDefinitions);
  const keys = new Map<string, RegValue[]>([['HKEY_LOCAL_MACHINE\\Software\\Policies\\Cordon', []]]);
  const put = (key: string, value: RegValue): void => {
    const full = `HKEY_LOCAL_MACHINE\\${key}`;
    keys.set(full, [...(keys.get(full) ?? []), value]);
  };
  const policies = (asDict(admx.policies).policy as Dict[]).filter((p) => String(p['@_name']).endsWith(`_${MANAGED_DEFAULTS_KEY}`) === defaultsScope);
  assert.equal(policies.length, SETTING_KEYS.length);
  for (const policy of policies) {
    const regKey = String(policy['@_key']);
    if (policy.elements === undefined) {
      const setting = String(policy['@_valueName']) as SettingKey;
      const chosen = asDict(SAMPLE[setting] === true ? policy.enabledValue : policy.disabledValue);
      put(regKey, { name: setting, type: 'REG_DWORD', data: `0x${Number(asDict(chosen.decimal)['@_value']).toString(16)}` });
      continue;
    }
    const [[kind, raw]] = Object.entries(asDict(policy.elements)) as [[string, unknown]];
    const element = asDict(raw);
    const setting = String(element['@_id']) as SettingKey;
    const sample = SAMPLE[setting];
    switch (kind) {
      case 'decimal': {
        const n = Number(sample);
        assert.ok(n >= Number(element['@_minValue']) && n <= Number(element['@_maxValue']), `${setting} within the ADMX range`);
        put(regKey, { name: String(element['@_valueName']), type: 'REG_DWORD', data: `0x${n.toString(16)}` });
        break;
      }
      case 'enum': {
        const item = (element.item as Dict[]).find((i) => String(asDict(i.value).string) === sample);
        assert.ok(item, `${setting}: the ADMX offers ${String(sample)}`);
        put(regKey, { name: String(element['@_valueName']), type: 'REG_SZ', data: String(asDict(item.value).string) });
        break;
      }
      case 'text':
        put(regKey, { name: String(element['@_valueName']), type: 'REG_SZ', data: typeof sample === 'string' ? sample : JSON.stringify(sample) });
        break;
      case 'list': {
        assert.equal(element['@_valuePrefix'], '', `${setting}: values named 1, 2, 3, ...`);
        (sample as string[]).forEach((item, i) => put(String(element['@_key']), { name: String(i + 1), type: 'REG_SZ', data: item }));
        break;
      }
      default:
        assert.fail(`${setting}: unexpected ADMX element ${kind}`);
    }
  }
  return keys;
}

/** reg.exe's `query /s` layout: CRLF lines, a blank line before each key, four-space separators. */
function renderRegQuery(keys: Map<string, RegValue[]>): string {
  const lines: string[] = [];
  for (const [key, values] of keys) {
    lines.push('', key);
    for (const v of values) lines.push(`    ${v.name}    ${v.type}    ${v.data}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
