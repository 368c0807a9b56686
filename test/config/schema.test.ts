import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SETTING_KEYS, SECRET_SETTING_KEYS } from '../../app/api/settings.ts';
import { MANAGED_SETTINGS_SCHEMA, SETTINGS_PROPERTIES, SETTINGS_SCHEMA, isSettingKey, settingsDefaults } from '../../app/config/schema.ts';
import { validateSettingValue } from '../../app/config/validate.ts';

describe('settings schema', () => {
  it('lists exactly the keys of the Settings type, in display order', () => {
    assert.deepEqual(Object.keys(SETTINGS_PROPERTIES), [...SETTING_KEYS]);
    assert.deepEqual(Object.keys(settingsDefaults()), [...SETTING_KEYS]);
  });

  it('gives every key what the MDM generators need: title, description, type, default; enum for closed sets', () => {
    for (const [key, schema] of Object.entries(SETTINGS_PROPERTIES)) {
      assert.ok(schema.title.length > 0, `${key} title`);
      assert.ok(schema.description.length > 20, `${key} description`);
      assert.ok(['string', 'boolean', 'integer', 'array', 'object'].includes(schema.type), `${key} type`);
      assert.ok('default' in schema, `${key} default`);
      if ('enum' in schema && schema.enum) assert.ok(schema.enum.includes(schema.default as never), `${key} default is in its enum`);
    }
    for (const key of ['mode', 'protectScope', 'caDistribution', 'logLevel', 'approvalTimeoutAction'] as const) {
      assert.ok('enum' in SETTINGS_PROPERTIES[key], `${key} is a closed set`);
    }
  });

  it('publishes valid documents: both schemas compile under strict draft 2020-12 and accept the defaults', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const defaults = settingsDefaults();
    assert.equal(ajv.compile(SETTINGS_SCHEMA)(defaults), true);
    const managed = ajv.compile(MANAGED_SETTINGS_SCHEMA);
    assert.equal(managed({ mode: 'enforce', Defaults: defaults }), true);
    assert.equal(managed({ mode: 'sometimes' }), false);
  });

  it('accepts every default under its own schema', () => {
    const defaults = settingsDefaults() as Record<string, unknown>;
    for (const key of SETTING_KEYS) assert.equal(validateSettingValue(key, defaults[key]), null, key);
  });

  it('marks secrets writeOnly', () => {
    for (const key of SECRET_SETTING_KEYS) assert.equal((SETTINGS_PROPERTIES[key] as { writeOnly?: boolean }).writeOnly, true);
  });

  it('publishes draft 2020-12 documents, the managed one with a Defaults object of the same keys', () => {
    assert.equal(SETTINGS_SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(SETTINGS_SCHEMA.additionalProperties, false);
    const defaults = MANAGED_SETTINGS_SCHEMA.properties.Defaults;
    assert.equal(defaults.type, 'object');
    assert.deepEqual(Object.keys(defaults.properties), [...SETTING_KEYS]);
  });

  it('validates values key by key with messages that never echo the value', () => {
    const table: [string, unknown, RegExp | null][] = [
      ['fleetServerUrl', 'https://fleet.example.com/api', null],
      ['fleetServerUrl', 'http://localhost:8080', null],
      ['fleetServerUrl', 'http://fleet.example.com', /https:\/\//],
      ['fleetServerUrl', 'https://user:pw@fleet.example.com', /https:\/\//],
      ['mode', 'enforce', null],
      ['mode', 'block', /one of: monitor, enforce/],
      ['syncIntervalSeconds', 30, null],
      ['syncIntervalSeconds', 29, />= 30/],
      ['syncIntervalSeconds', 60.5, /integer/],
      ['allowPause', 'false', /boolean/],
      ['protectAgents', ['*', 'claude-code'], null],
      ['blockedAgents', ['*'], /item 0: must be an agent kind/],
      ['allowedAgents', ['codex', 'codex'], /unique/],
      ['tlsInspectionHosts', ['*.openai.com', 'api.anthropic.com'], null],
      ['tlsInspectionHosts', ['api.openai.com:443'], /host name/],
      ['projectRoots', ['~/src', '/work', 'C:\\src'], null],
      ['projectRoots', ['relative/dir'], /absolute/],
      ['enrollSecretFile', '/etc/cordon/enroll.secret', null],
      ['enrollSecretFile', 'enroll.secret', /absolute path/],
      ['lockedPolicy', { rules: [] }, null],
      ['lockedPolicy', [], /object/],
      ['proxyPort', 65536, /<= 65535/],
      ['enrollSecret', 'hunter2-value', null],
      ['enrollSecret', 42, /string/],
    ];
    for (const [key, value, expected] of table) {
      assert.ok(isSettingKey(key));
      const message = validateSettingValue(key, value);
      if (expected === null) assert.equal(message, null, `${key}=${JSON.stringify(value)}`);
      else {
        assert.match(message ?? '', expected, `${key}=${JSON.stringify(value)}`);
        if (typeof value === 'string' && value.length > 3) assert.ok(!(message ?? '').includes(value), 'message echoes the value');
      }
    }
  });

  it('does not treat inherited names as keys', () => {
    assert.equal(isSettingKey('constructor'), false);
    assert.equal(isSettingKey('__proto__'), false);
    assert.equal(isSettingKey('toString'), false);
  });
});
