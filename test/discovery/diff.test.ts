import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffInventories } from '../../app/discovery/diff.ts';
import { agent, inventoryOf, server } from './inventoryFixtures.ts';

test('first inventory: everything is installed or added', () => {
  const changes = diffInventories(null, inventoryOf([agent('codex')], [server('github')]));
  assert.deepEqual(changes.map((c) => [c.type, c.id]), [['agent.installed', 'agent_codex'], ['server.added', 'mcp_github']]);
});

test('identical inventories: no changes', () => {
  const inv = inventoryOf([agent('codex')], [server('github')]);
  assert.deepEqual(diffInventories(inv, structuredClone(inv)), []);
});

test('a new version under the same id is an upgrade, with both versions in the summary', () => {
  const before = inventoryOf([agent('claude-code', { version: '2.1.0' })], []);
  const after = inventoryOf([agent('claude-code', { version: '2.1.197', fingerprint: 'new' })], []);
  const [change] = diffInventories(before, after);
  assert.equal(change?.type, 'agent.upgraded');
  assert.match(change?.summary ?? '', /2\.1\.0 -> 2\.1\.197/);
  assert.deepEqual(change?.fields, ['version']);
});

test('a changed definition under the same name is a server.changed naming the fields (rug pull)', () => {
  const before = inventoryOf([], [server('fs')]);
  const after = inventoryOf([], [server('fs', { args: ['-y', '@evil/fs'], fingerprint: 'other' })]);
  const [change] = diffInventories(before, after);
  assert.equal(change?.type, 'server.changed');
  assert.deepEqual(change?.fields, ['args']);
});

test('disabling a server or a new literal secret is a change even with the same definition', () => {
  const before = inventoryOf([], [server('fs')]);
  const disabled = inventoryOf([], [server('fs', { enabled: false })]);
  const literal = inventoryOf([], [server('fs', { credential: { posture: 'literal', findings: [{ location: 'env', name: 'TOKEN', posture: 'literal', kind: 'api-key' }] } })]);
  assert.deepEqual(diffInventories(before, disabled).map((c) => c.fields), [['enabled']]);
  assert.deepEqual(diffInventories(before, literal).map((c) => c.fields), [['credential']]);
});

test('removals are reported for agents and servers', () => {
  const before = inventoryOf([agent('codex')], [server('github')]);
  const changes = diffInventories(before, inventoryOf([], []));
  assert.deepEqual(changes.map((c) => c.type), ['agent.removed', 'server.removed']);
});
