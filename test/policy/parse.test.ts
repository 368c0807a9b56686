import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyProblem } from '../../app/api/policy.ts';
import { BUILTIN_POLICY_TEXT } from '../../app/policy/builtin.ts';
import { parsePolicyText, parsePolicyValue, MAX_POLICY_BYTES } from '../../app/policy/parse.ts';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

function parseFixture(name: string): ReturnType<typeof parsePolicyText> {
  return parsePolicyText(readFileSync(join(FIXTURES, name), 'utf8'), name);
}

/** [line, column, ruleId or '', path, message fragment] for each expected error, in order. */
type Expected = readonly [number, number, string, string, RegExp];

function assertProblems(problems: readonly PolicyProblem[], expected: readonly Expected[]): void {
  const errors = problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, expected.length, `errors: ${JSON.stringify(errors, null, 1)}`);
  expected.forEach(([line, column, ruleId, path, message], i) => {
    const p = errors[i];
    assert.ok(p, `problem ${i}`);
    assert.equal(p.line, line, `line of ${p.message}`);
    assert.equal(p.column, column, `column of ${p.message}`);
    assert.equal(p.ruleId ?? '', ruleId, `rule id of ${p.message}`);
    assert.equal(p.path, path, `path of ${p.message}`);
    assert.match(p.message, message);
  });
}

test('good fixtures parse into typed documents with the line of every rule', () => {
  const full = parseFixture('good-full.yaml');
  assert.ok(full.ok, JSON.stringify(full.problems));
  assert.equal(full.policy.document.mode, 'enforce');
  assert.deepEqual(full.policy.document.rules?.map((r) => r.id), ['internal-api', 'no-admin', 'github', 'lan', 'dev-ports', 'leak']);
  assert.deepEqual(full.policy.ruleLines, [15, 23, 29, 32, 36, 40]);
  assert.deepEqual(full.policy.localLines, [45, 48, 52]);
  assert.deepEqual(full.policy.document.rules?.[0]?.dpop, { credential: 'internal-api' });
  assert.equal(full.problems.filter((p) => p.severity === 'error').length, 0);

  for (const name of ['good-minimal.yaml', 'good.json']) {
    const r = parseFixture(name);
    assert.ok(r.ok, `${name}: ${JSON.stringify(r.problems)}`);
  }
});

test('the built-in policy is itself a valid policy file', () => {
  const r = parsePolicyText(BUILTIN_POLICY_TEXT, '<builtin>');
  assert.ok(r.ok, JSON.stringify(r.problems));
  assert.deepEqual(r.problems, []);
});

const BAD: readonly (readonly [string, readonly Expected[]])[] = [
  ['bad-yaml-syntax.yaml', [[6, 3, '', '', /^YAML: Flow sequence .* end with a \]/]]],
  ['bad-duplicate-key.yaml', [[5, 5, '', '', /^YAML: Map keys must be unique/]]],
  ['bad-alias-bomb.yaml', [[1, 1, '', '', /^YAML: Excessive alias count/]]],
  ['bad-not-a-mapping.yaml', [[1, 1, '', '', /must be a mapping/]]],
  [
    'bad-schema.yaml',
    [
      [1, 10, '', 'version', /must be 1/],
      [2, 7, '', 'mode', /one of: monitor, enforce/],
      [4, 11, '', 'defaults.egress', /one of: allow, log, ask, deny/],
      [8, 5, 'ok-rule', 'rules[0].hots', /unknown key "hots" \(did you mean "hosts"\?\)/],
      [9, 5, '', 'rules[1]', /missing required key "id"/],
      [11, 9, 'bad id!', 'rules[2].id', /letters, digits/],
      [13, 13, 'bad id!', 'rules[2].agents', /must be a list/],
    ],
  ],
  [
    'bad-semantic.yaml',
    [
      [5, 13, 'nets', 'rules[0].cidrs[0]', /host bits are set after \/8 \(did you mean 10\.0\.0\.0\/8\?\)/],
      [5, 25, 'nets', 'rules[0].cidrs[1]', /prefix length must be 0-128/],
      [5, 39, 'nets', 'rules[0].cidrs[2]', /"300\.0\.0\.0" is not a valid IPv4 address/],
      [6, 11, 'nets', 'rules[0].ips[0]', /not a valid IPv4 or IPv6 address/],
      [6, 18, 'nets', 'rules[0].ips[1]', /is a network: put it in cidrs/],
      [9, 13, 'ports', 'rules[1].ports[0]', /range is backwards \(write "8000-9000"\)/],
      [9, 26, 'ports', 'rules[1].ports[1]', /port \(1-65535\)/],
      [9, 29, 'ports', 'rules[1].ports[2]', /port \(1-65535\)/],
      [9, 36, 'ports', 'rules[1].ports[3]', /ports are 1-65535/],
      [10, 9, 'nets', 'rules[2].id', /duplicate rule id "nets" \(first used at line 3\)/],
      [12, 13, 'nets', 'rules[2].hosts[0]', /must be a host name/],
      [12, 29, 'nets', 'rules[2].hosts[1]', /is an IP address: put addresses in ips/],
      [12, 39, 'nets', 'rules[2].hosts[2]', /not a valid host name/],
      [15, 13, 'flags', 'rules[3].flags[0]', /unknown flag code "paste-servce" \(did you mean "paste-service"\?\)/],
      [16, 5, 'flags', 'rules[3].inspect', /judges signals only/],
    ],
  ],
  [
    'bad-flags-map.yaml',
    [
      [4, 3, '', 'flags.upload-spyke', /unknown flag code "upload-spyke" \(did you mean "upload-spike"\?\)/],
      [5, 12, '', 'flags.secrets', /one of: allow, log, ask, deny/],
    ],
  ],
  [
    'bad-local.yaml',
    [
      [3, 9, 'nothing', 'local[0].id', /needs commands, files or mcp/],
      [8, 5, 'ops', 'local[1].operations', /operations applies to files/],
    ],
  ],
];

for (const [name, expected] of BAD) {
  test(`bad fixture ${name}: every problem with line, column, rule id and message`, () => {
    const r = parseFixture(name);
    assert.equal(r.ok, false);
    assertProblems(r.problems, expected);
    for (const p of r.problems) assert.equal(p.file, name);
  });
}

test('a rule after a rule that covers it gets a "never matches" warning, and the file stays valid', () => {
  const r = parsePolicyText(
    'version: 1\nrules:\n  - id: all-github\n    action: allow\n    hosts: ["*.github.com"]\n  - id: api-admin\n    action: deny\n    hosts: [api.github.com]\n    paths: [/admin]\n    inspect: true\n  - id: other\n    action: deny\n    hosts: [github.com]\n',
    'p.yaml',
  );
  assert.ok(r.ok);
  const warnings = r.problems.filter((p) => p.severity === 'warning');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.ruleId, 'api-admin');
  assert.equal(warnings[0]?.line, 6);
  assert.match(warnings[0]?.message ?? '', /never matches: rule "all-github" \(line 3\)/);
});

test('methods or paths with no inspection anywhere in the file get a warning', () => {
  const r = parsePolicyText('version: 1\nrules:\n  - id: p\n    action: deny\n    hosts: [a.example]\n    paths: [/x]\n', 'p.yaml');
  assert.ok(r.ok);
  assert.match(r.problems[0]?.message ?? '', /only visible on plain HTTP and inspected HTTPS/);
});

test('malformed input of any shape is a value, never a throw', () => {
  const inputs = ['', '   \n', 'null', '42', '"text"', '[]', 'version: 1\nrules: 7', 'version: 1\nrules: [1, null, "x", {}]', 'version: 1\nrules:\n  - *undefined_alias', '\u0000\u0001', '{{{{', 'version: 1\nlocal: [{id: x, action: deny, mcp: [7]}]', '!!js/function "x"'];
  for (const text of inputs) {
    const r = parsePolicyText(text, 'x.yaml');
    assert.equal(r.ok, false, `accepted ${JSON.stringify(text)}`);
    assert.ok(r.problems.length > 0);
    for (const p of r.problems) assert.equal(typeof p.message, 'string');
  }
  for (const value of [null, undefined, 1, 'x', [], { version: 1, rules: 'no' }, { version: 1, rules: [{ id: 5 }] }]) {
    const r = parsePolicyValue(value, 'inline');
    assert.equal(r.ok, false);
    assert.ok(r.problems.every((p) => p.line === 0 && p.file === 'inline'));
  }
});

test('deeply nested or problem-flooding input is bounded: at most 200 problems and a count of the rest', () => {
  for (const text of ['['.repeat(100_000), '{'.repeat(50_000), `version: 1\nrules:\n${'  - {id: "bad id", action: nope}\n'.repeat(500)}`]) {
    const r = parsePolicyText(text, 'x.yaml');
    assert.equal(r.ok, false);
    assert.ok(r.problems.length <= 201, `${r.problems.length} problems`);
    if (r.problems.length === 201) assert.match(r.problems[200]?.message ?? '', /^\.\.\. and \d+ more problems not shown$/);
  }
});

test('an oversized policy is refused before parsing', () => {
  const r = parsePolicyText(`version: 1\n#${'x'.repeat(MAX_POLICY_BYTES)}`, 'big.yaml');
  assert.equal(r.ok, false);
  assert.match(r.problems[0]?.message ?? '', /larger than/);
});

test('inline objects (IT lockedPolicy) are validated the same way, without positions', () => {
  const ok = parsePolicyValue({ version: 1, rules: [{ id: 'x', action: 'deny', hosts: ['evil.example'] }] }, 'managed.json (lockedPolicy)');
  assert.ok(ok.ok);
  const bad = parsePolicyValue({ version: 1, rules: [{ id: 'x', action: 'deny', cidrs: ['10.0.0.0/33'] }] }, 'managed.json (lockedPolicy)');
  assert.equal(bad.ok, false);
  assert.deepEqual(
    bad.problems.map((p) => [p.ruleId, p.path, p.line]),
    [['x', 'rules[0].cidrs[0]', 0]],
  );
});
