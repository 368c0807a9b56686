// Config parsing: JSONC (comments, trailing commas), TOML and YAML to values; syntax errors as
// values with line and column whose message never quotes the document.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig, position } from '../../../app/discovery/mcp/parse.ts';

describe('parseConfig', () => {
  test('JSONC: line and block comments and trailing commas are accepted', () => {
    const outcome = parseConfig('// c\n{ /* b */ "servers": { "a": { "command": "x", }, }, }\n', 'json');
    assert.deepEqual(outcome, { ok: true, value: { servers: { a: { command: 'x' } } } });
  });

  test('JSON: an empty document is an empty value, not an error', () => {
    assert.deepEqual(parseConfig('   \n', 'json'), { ok: true, value: undefined });
  });

  test('JSON: "__proto__" becomes an own property, not a prototype', () => {
    const outcome = parseConfig('{"__proto__": {"polluted": true}}', 'json');
    assert.ok(outcome.ok);
    const value = outcome.value as Record<string, unknown>;
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal((value as { polluted?: unknown }).polluted, undefined);
  });

  test('JSON syntax error: position only, no content', () => {
    const outcome = parseConfig('{\n  "a": 1,\n  "b": secret-value-here\n}', 'json');
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.match(outcome.message, /^JSON syntax error \(\w+\) at line 3, column \d+$/);
      assert.ok(!outcome.message.includes('secret-value-here'));
    }
  });

  test('TOML: tables and inline tables', () => {
    // smol-toml builds prototype-less tables; compare the data, not the prototypes.
    const outcome = parseConfig('[mcp_servers.a]\ncommand = "x"\nenv = { K = "v" }\n', 'toml');
    assert.deepEqual(JSON.parse(JSON.stringify(outcome)), { ok: true, value: { mcp_servers: { a: { command: 'x', env: { K: 'v' } } } } });
  });

  test('TOML syntax error: position only, no content', () => {
    const outcome = parseConfig('a = 1\nb = "unterminated secret-toml-value\n', 'toml');
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.match(outcome.message, /^TOML syntax error at line 2, column \d+$/);
      assert.ok(!outcome.message.includes('secret-toml-value'));
    }
  });

  test('YAML: lists and maps', () => {
    assert.deepEqual(parseConfig('mcpServers:\n  - name: a\n    command: x\n', 'yaml'), { ok: true, value: { mcpServers: [{ name: 'a', command: 'x' }] } });
  });

  test('YAML syntax error: code and position only', () => {
    const outcome = parseConfig('a: [1, 2\nb: "secret-yaml-value"\n', 'yaml');
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.match(outcome.message, /^YAML syntax error \([A-Z_]+\)( at line \d+, column \d+)?$/);
      assert.ok(!outcome.message.includes('secret-yaml-value'));
    }
  });

  test('pathological nesting in each format is an error, not a stack overflow', () => {
    assert.equal(parseConfig('['.repeat(200_000), 'json').ok, false);
    assert.equal(parseConfig(`a = ${'['.repeat(5000)}${']'.repeat(5000)}`, 'toml').ok, false);
    assert.equal(parseConfig(`${'['.repeat(5000)}${']'.repeat(5000)}`, 'yaml').ok, false);
  });

  test('position() counts lines and columns from 1', () => {
    assert.deepEqual(position('ab\ncd\nef', 0), { line: 1, column: 1 });
    assert.deepEqual(position('ab\ncd\nef', 4), { line: 2, column: 2 });
    assert.deepEqual(position('ab\ncd\nef', 6), { line: 3, column: 1 });
  });
});
