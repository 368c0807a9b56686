import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { collector } from '../helpers/collector.ts';
import { fileURLToPath } from 'node:url';
import { main } from '../../app/cli/main.ts';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

type Run = { code: number; stdout: string; stderr: string };

function sink(): { stream: Writable; text: () => string } {
  const stream = collector();
  return { stream, text: () => stream.text() };
}

/** A private CORDON_HOME with a user policy and a managed settings file holding a lockedPolicy. */
function sandbox(userPolicy: string | null, lockedPolicy: unknown = {}): { env: NodeJS.ProcessEnv; root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'cordon-policy-cli-'));
  const env: NodeJS.ProcessEnv = { CORDON_HOME: join(root, 'home'), HOME: root, CORDON_MANAGED_SETTINGS: join(root, 'managed.json'), PATH: process.env.PATH };
  mkdirSync(join(root, 'home', 'config'), { recursive: true });
  if (userPolicy !== null) writeFileSync(join(root, 'home', 'config', 'policy.yaml'), userPolicy);
  writeFileSync(join(root, 'managed.json'), JSON.stringify({ lockedPolicy }));
  return { env, root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

async function cordon(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Run> {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env, cwd: FIXTURES });
  return { code, stdout: out.text(), stderr: err.text() };
}

const USER = `version: 1
rules:
  - id: github
    action: allow
    hosts: [github.com, "*.github.com"]
  - id: corp
    action: allow
    hosts: [api.corp.example]
    inspect: true
  - id: corp-admin
    action: deny
    hosts: [api.corp.example]
    paths: [/admin]
`;

test('policy check: valid files exit 0 with a summary', async () => {
  const { env, cleanup } = sandbox(null);
  try {
    const r = await cordon(env, 'policy', 'check', 'good-full.yaml', 'good.json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /good-full\.yaml: valid\n {2}6 egress rules, 3 local rules \(allow 3, log 1, ask 1, deny 4\)\n {2}agents covered: \*, claude-code, codex/);
    assert.match(r.stdout, /good\.json: valid/);
  } finally {
    cleanup();
  }
});

test('policy check: every problem as file:line:column with the rule id; exit 1; no stack trace', async () => {
  const { env, cleanup } = sandbox(null);
  try {
    const r = await cordon(env, 'policy', 'check', 'bad-semantic.yaml', 'bad-yaml-syntax.yaml', 'no-such-file.yaml');
    assert.equal(r.code, 1);
    const file = join(FIXTURES, 'bad-semantic.yaml');
    assert.ok(r.stderr.includes(`${file}:5:13: error: rule "nets": rules[0].cidrs[0]: "10.0.0.1/8": host bits are set after /8`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:10:9: error: rule "nets": rules[2].id: duplicate rule id "nets"`));
    assert.ok(r.stderr.includes(`${file}: invalid (15 errors)`));
    assert.ok(r.stderr.includes(`${join(FIXTURES, 'bad-yaml-syntax.yaml')}:6:3: error: YAML:`));
    assert.ok(r.stderr.includes(`${join(FIXTURES, 'no-such-file.yaml')}: error: no such file`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const json = await cordon(env, 'policy', 'check', '--json', 'bad-flags-map.yaml');
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; files: { problems: { line: number; message: string }[] }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.files[0]?.problems.map((p) => p.line), [4, 5]);
    assert.equal((await cordon(env, 'policy', 'check')).code, 2);
  } finally {
    cleanup();
  }
});

test('policy explain: a managed deny beats a user allow, with layer, rule and file:line', async () => {
  const { env, root, cleanup } = sandbox(USER, { version: 1, rules: [{ id: 'no-gist', action: 'deny', hosts: ['gist.github.com'] }] });
  try {
    const r = await cordon(env, 'policy', 'explain', '--agent', 'claude-code', '--url', 'https://gist.github.com/x', '--mode', 'enforce');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CONNECT gist\.github\.com:443: DENY/);
    assert.match(r.stdout, /decided by: managed:no-gist .*layer managed/);
    assert.ok(r.stdout.includes(`user     allow by rule github (${join(root, 'home', 'config', 'policy.yaml')}:3): overridden: managed says deny`), r.stdout);
    const open = await cordon(env, 'policy', 'explain', '--agent', 'claude-code', '--url', 'https://api.github.com/repos');
    assert.match(open.stdout, /api\.github\.com is not inspected, so only the host and port are visible/);

    const json = await cordon(env, 'policy', 'explain', '--agent', 'claude-code', '--url', 'https://api.github.com/', '--json', '--mode', 'enforce');
    const parsed = JSON.parse(json.stdout) as { decision: { action: string; rule: string; layer: string } };
    assert.deepEqual([parsed.decision.action, parsed.decision.rule, parsed.decision.layer], ['allow', 'user:github', 'user']);
  } finally {
    cleanup();
  }
});

test('policy explain: inspected hosts are explained in two stages; --policy adds a user layer; monitor mode', async () => {
  const { env, root, cleanup } = sandbox(USER);
  try {
    const r = await cordon(env, 'policy', 'explain', '--agent', 'codex', '--url', 'https://api.corp.example/admin/users', '--mode', 'enforce');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CONNECT api\.corp\.example:443: ALLOW/);
    assert.match(r.stdout, /TLS inspection: yes/);
    assert.match(r.stdout, /GET https:\/\/api\.corp\.example\/admin\/users \(inspected\): ALLOW/, 'the earlier corp rule is the first match');

    const extra = join(root, 'extra.yaml');
    writeFileSync(extra, 'version: 1\nrules:\n  - id: block-example\n    action: deny\n    hosts: [example.org]\n');
    const withExtra = await cordon(env, 'policy', 'explain', '--agent', 'codex', '--url', 'http://example.org/x', '--policy', extra);
    assert.match(withExtra.stdout, /GET http:\/\/example\.org\/x: LOG \(policy says deny\)/);
    assert.match(withExtra.stdout, /decided by: user:block-example/);
    assert.match(withExtra.stdout, /mode: monitor/);
  } finally {
    cleanup();
  }
});

test('policy explain: usage errors exit 2, and credentials in the URL are never printed', async () => {
  const { env, cleanup } = sandbox(null);
  try {
    assert.equal((await cordon(env, 'policy', 'explain', '--url', 'https://x.example')).code, 2);
    assert.equal((await cordon(env, 'policy', 'explain', '--agent', 'a', '--url', 'ftp://x.example')).code, 2);
    assert.equal((await cordon(env, 'policy', 'explain', '--agent', 'a', '--url', 'http://[bad')).code, 2);
    assert.equal((await cordon(env, 'policy', 'explain', '--agent', 'a', '--url', 'x.example', '--mode', 'loud')).code, 2);
    const r = await cordon(env, 'policy', 'explain', '--agent', 'a', '--url', 'http://user:hunter2secret@x.example/p');
    assert.equal(r.code, 0);
    assert.ok(!r.stdout.includes('hunter2secret') && !r.stderr.includes('hunter2secret'));
  } finally {
    cleanup();
  }
});

test('policy show: every rule with its layer and file:line; an invalid user file is reported, not fatal', async () => {
  const { env, cleanup } = sandbox(USER, { version: 1, rules: [{ id: 'it-rule', action: 'deny', hosts: ['x.example'] }] });
  try {
    const r = await cordon(env, 'policy', 'show', '--json');
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as { rules: { layer: string; line: number; rule: { id: string } }[]; sources: { layer: string; status: string }[] };
    const ids = view.rules.map((x) => `${x.layer}:${x.rule.id}:${x.line}`);
    assert.ok(ids.includes('managed:it-rule:0'));
    assert.ok(ids.includes('user:github:3'));
    assert.ok(ids.includes('builtin:cloud-metadata:25'));
    assert.deepEqual(view.sources.map((s) => `${s.layer}:${s.status}`), ['managed:loaded', 'user:loaded', 'builtin:loaded']);
    const text = await cordon(env, 'policy', 'show');
    assert.match(text.stdout, /managed +deny +it-rule/);
  } finally {
    cleanup();
  }
  const broken = sandbox('version: 1\nrules: [oops\n', { version: 1, rules: [{ id: 'bad', action: 'deny', cidrs: ['10.0.0.0/40'] }] });
  try {
    const r = await cordon(broken.env, 'policy', 'show');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /FAIL-CLOSED/);
    assert.match(r.stdout, /user +invalid/);
    assert.match(r.stderr, /policy\.yaml:\d+:\d+: error: YAML/);
    assert.match(r.stderr, /\(lockedPolicy\): error: rule "bad": rules\[0\]\.cidrs\[0\]/);
  } finally {
    broken.cleanup();
  }
});

test('policy schema prints the JSON Schema', async () => {
  const { env, cleanup } = sandbox(null);
  try {
    const r = await cordon(env, 'policy', 'schema');
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { $schema: string; required: string[] };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(schema.required, ['version']);
  } finally {
    cleanup();
  }
});
