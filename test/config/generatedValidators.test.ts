/**
 * The policy and settings validators are ajv's code generated from the schemas ahead of time
 * (scripts/generate-validators.ts), so the daemon does not load ajv. These tests fail when a
 * schema changed without regenerating, and prove the generated code answers exactly as ajv
 * compiling the schema now would: same verdict, same errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SETTING_KEYS } from '../../app/api/settings.ts';
import * as settingValidators from '../../app/config/generated/settingValidators.js';
import { SETTINGS_PROPERTIES, settingsDefaults } from '../../app/config/schema.ts';
import { validate as policyValidator } from '../../app/policy/generated/policyValidator.js';
import { POLICY_SCHEMA } from '../../app/policy/schema.ts';
import { POLICY_AJV_OPTIONS, SETTINGS_AJV_OPTIONS, staleValidators } from '../../scripts/generate-validators.ts';

test('the generated validators match the schemas (run npm run generate:validators after a schema change)', () => {
  assert.deepEqual(staleValidators(), []);
});

test('every setting: the generated validator gives the verdict and errors ajv gives', () => {
  const ajv = new Ajv2020(SETTINGS_AJV_OPTIONS);
  const defaults = settingsDefaults() as Record<string, unknown>;
  const samples: unknown[] = [null, 12345, -1, 3.5, true, 'x', 'x'.repeat(5000), '', [], ['a'], [1, 2], {}, { a: 1 }, 'https://fleet.example.com', '/abs/path', 'monitor', 'enforce'];
  for (const key of SETTING_KEYS) {
    const generated = (settingValidators as Record<string, typeof policyValidator>)[key];
    assert.ok(generated, `${key} has a generated validator`);
    const compiled = ajv.compile(SETTINGS_PROPERTIES[key]);
    for (const value of [defaults[key], ...samples]) {
      const verdict = generated(value) as boolean;
      assert.equal(verdict, compiled(value), `${key} = ${JSON.stringify(value)?.slice(0, 40)}`);
      assert.deepEqual(generated.errors ?? null, compiled.errors ?? null, `${key} errors`);
    }
  }
});

test('policy documents: the generated validator gives the verdict and errors ajv gives', () => {
  const compiled = new Ajv2020(POLICY_AJV_OPTIONS).compile(POLICY_SCHEMA);
  const documents: unknown[] = [
    { version: 1 },
    { version: 1, mode: 'enforce', rules: [{ id: 'no-paste', action: 'deny', hosts: ['pastebin.com', '*.paste.ee'], ports: [443, '8000-8999'] }] },
    { version: 2 },
    { version: 1, rules: [{ id: 'x', action: 'sometimes' }] },
    { version: 1, rules: [{ action: 'deny', hosts: 'pastebin.com', extra: true }] },
    { version: 1, unknownKey: 1, rules: 'none' },
    { rules: [] },
    [],
    'version: 1',
  ];
  for (const doc of documents) {
    assert.equal(policyValidator(doc), compiled(doc), JSON.stringify(doc));
    assert.deepEqual(policyValidator.errors ?? null, compiled.errors ?? null, `errors for ${JSON.stringify(doc)}`);
  }
});
