import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyRule } from '../../app/api/policy.ts';
import { decide, type DecisionInput } from '../../app/policy/decide.ts';
import { loadEffectivePolicy, userPolicyFile } from '../../app/policy/load.ts';
import { parsePolicyText } from '../../app/policy/parse.ts';
import { addUserLocalRule, addUserRule, readUserPolicy, removeUserRule, rulesFromAnswer } from '../../app/policy/userRules.ts';
import { cordonPaths, type CordonPaths } from '../../app/util/paths.ts';
import { agent, connect } from './helpers.ts';

function tempPaths(): { paths: CordonPaths; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'cordon-policy-rules-'));
  return { paths: cordonPaths({ CORDON_HOME: root, HOME: root }), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const RULE: PolicyRule = { id: 'r1', agents: ['claude-code'], action: 'deny', hosts: ['evil.example'], ports: [443] };

async function effective(paths: CordonPaths): Promise<Awaited<ReturnType<typeof loadEffectivePolicy>>['policy']> {
  return (await loadEffectivePolicy({ paths, env: {}, managed: [] })).policy;
}

test('addUserRule creates the user policy file, valid and private, and decide() sees the rule', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    const result = await addUserRule(paths, RULE);
    assert.ok(result.ok, JSON.stringify(result));
    const file = userPolicyFile(paths);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# Cordon user policy/);
    assert.ok(parsePolicyText(text, file).ok);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    const d = decide(await effective(paths), { request: connect('evil.example'), principal: agent('claude-code'), mode: 'enforce' });
    assert.equal(d.rule, 'user:r1');
    assert.equal(d.action, 'deny');
    assert.deepEqual(readdirSync(paths.configDir).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    cleanup();
  }
});

test('addUserRule keeps comments and layout, and puts the new rule first', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    mkdirSync(paths.configDir, { recursive: true });
    const original = `# my policy: hand written
version: 1
defaults:
  egress: ask # ask me about anything new
rules:
  # github is fine
  - id: gh
    action: allow
    hosts: ["*.github.com"]
local:
  - id: no-rm
    action: deny
    commands: ["rm -rf *"]
`;
    writeFileSync(userPolicyFile(paths), original);
    const result = await addUserRule(paths, { id: 'always-allow-x', agents: ['codex'], action: 'allow', hosts: ['x.example'], ports: [443] });
    assert.ok(result.ok, JSON.stringify(result));
    const text = readFileSync(userPolicyFile(paths), 'utf8');
    for (const kept of ['# my policy: hand written\nversion: 1\n', 'egress: ask # ask me about anything new\n', '  # github is fine\n  - id: gh\n', 'hosts: ["*.github.com"]\n', 'commands: ["rm -rf *"]\n']) {
      assert.ok(text.includes(kept), `lost ${JSON.stringify(kept)} in:\n${text}`);
    }
    assert.ok(text.indexOf('always-allow-x') < text.indexOf('# github is fine'));
    const parsed = parsePolicyText(text, 'p.yaml');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.policy.document.rules?.map((r) => r.id), ['always-allow-x', 'gh']);
    assert.deepEqual(parsed.policy.document.rules?.[0]?.hosts, ['x.example']);
    assert.equal(parsed.policy.document.local?.[0]?.id, 'no-rm');

    const local = await addUserLocalRule(paths, { id: 'no-sudo', action: 'deny', commands: ['sudo *'] });
    assert.ok(local.ok);
    const again = parsePolicyText(readFileSync(userPolicyFile(paths), 'utf8'), 'p.yaml');
    assert.ok(again.ok);
    assert.deepEqual(again.policy.document.local?.map((r) => r.id), ['no-sudo', 'no-rm']);
  } finally {
    cleanup();
  }
});

test('refusals are values: invalid rule, invalid file, duplicate id, stale hash; the file is untouched', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    const bad = await addUserRule(paths, { id: 'x', action: 'deny', cidrs: ['10.0.0.1/8'] });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.reason, 'invalid-rule');
    assert.match(!bad.ok ? bad.message : '', /host bits/);

    assert.ok((await addUserRule(paths, RULE)).ok);
    const dup = await addUserRule(paths, RULE);
    assert.equal(!dup.ok && dup.reason, 'duplicate-id');

    const { hash } = await readUserPolicy(paths);
    writeFileSync(userPolicyFile(paths), `${readFileSync(userPolicyFile(paths), 'utf8')}# edited by hand\n`);
    const stale = await addUserRule(paths, { ...RULE, id: 'r2' }, { expectedHash: hash });
    assert.equal(!stale.ok && stale.reason, 'conflict');
    assert.ok(!readFileSync(userPolicyFile(paths), 'utf8').includes('r2'));

    writeFileSync(userPolicyFile(paths), 'version: 1\nrules: [oops\n');
    const broken = await addUserRule(paths, { ...RULE, id: 'r3' });
    assert.equal(!broken.ok && broken.reason, 'invalid-file');
    assert.equal(readFileSync(userPolicyFile(paths), 'utf8'), 'version: 1\nrules: [oops\n');
  } finally {
    cleanup();
  }
});

test('concurrent answers are serialized: none is lost', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => addUserRule(paths, { ...RULE, id: `r${i}`, hosts: [`h${i}.example`] })));
    assert.ok(results.every((r) => r.ok), JSON.stringify(results));
    const parsed = parsePolicyText(readFileSync(userPolicyFile(paths), 'utf8'), 'p.yaml');
    assert.ok(parsed.ok);
    assert.equal(parsed.policy.document.rules?.length, 12);
  } finally {
    cleanup();
  }
});

test('removeUserRule removes by id and reports a missing one', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    assert.equal((await removeUserRule(paths, 'nope')).ok, false);
    await addUserRule(paths, RULE);
    await addUserRule(paths, { ...RULE, id: 'keep', hosts: ['keep.example'] });
    assert.ok((await removeUserRule(paths, 'r1')).ok);
    const parsed = parsePolicyText(readFileSync(userPolicyFile(paths), 'utf8'), 'p.yaml');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.policy.document.rules?.map((r) => r.id), ['keep']);
    const missing = await removeUserRule(paths, 'r1');
    assert.equal(!missing.ok && missing.reason, 'not-found');
  } finally {
    cleanup();
  }
});

test('"always" answers: the rules they become change the next decision', async () => {
  const { paths, cleanup } = tempPaths();
  try {
    const input: DecisionInput = { request: connect('paste.example'), principal: agent('claude-code'), mode: 'enforce', flags: ['paste-service', 'secret-in-body'] };
    const before = decide(await effective(paths), input);
    assert.equal(before.action, 'ask');

    const allow = rulesFromAnswer(input, 'allow');
    assert.equal(allow.length, 2);
    assert.deepEqual(allow[1]?.flags, ['paste-service'], 'secret signals are not silenced by default');
    assert.ok((await addUserRule(paths, allow)).ok);
    const after = decide(await effective(paths), { ...input, flags: ['paste-service'] });
    assert.equal(after.action, 'allow', JSON.stringify(after));
    assert.equal(decide(await effective(paths), input).action, 'ask', 'a secret in the body still asks');
    assert.equal(decide(await effective(paths), { ...input, principal: agent('codex'), flags: ['paste-service'] }).action, 'ask', 'only for this agent');

    const deny = rulesFromAnswer({ ...input, request: connect('2852039167', 8443) }, 'deny');
    assert.deepEqual(deny.map((r) => [r.action, r.ips, r.ports]), [['deny', ['169.254.169.255'], [8443]]]);
    assert.ok((await addUserRule(paths, deny)).ok);
    assert.equal(decide(await effective(paths), { ...input, request: connect('169.254.169.255', 8443), flags: [] }).action, 'deny');
  } finally {
    cleanup();
  }
});
