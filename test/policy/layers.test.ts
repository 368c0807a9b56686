import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyLayerName } from '../../app/api/policy.ts';
import { compilePolicy, type LayerSource } from '../../app/policy/compile.ts';
import { combineVerdicts, type Verdict } from '../../app/policy/layers.ts';
import { connect, run, source } from './helpers.ts';

/** "-": nothing; "allow": a rule for the host; "d:allow": only a default; "d:deny+allow": both. */
type Cell = string;

function layerYaml(cell: Cell): string | null {
  if (cell === '-') return null;
  const [def, rule] = cell.startsWith('d:') ? (cell.slice(2).split('+') as [string, string | undefined]) : [undefined, cell];
  let yaml = 'version: 1\n';
  if (def) yaml += `defaults:\n  egress: ${def}\n`;
  if (rule) yaml += `rules:\n  - id: r\n    action: ${rule}\n    hosts: [x.example]\n`;
  return yaml;
}

function layered(cells: Readonly<Record<PolicyLayerName, Cell>>): ReturnType<typeof compilePolicy> {
  const sources: LayerSource[] = [];
  for (const layer of ['builtin', 'user', 'managed', 'fleet'] as const) {
    const yaml = layerYaml(cells[layer]);
    if (yaml) sources.push(source(layer, yaml));
  }
  return compilePolicy(sources);
}

// builtin, user, managed, fleet -> expected action, expected rule
const TABLE: readonly (readonly [Cell, Cell, Cell, Cell, string, string, string])[] = [
  ['allow', '-', '-', '-', 'allow', 'builtin:r', 'builtin alone decides'],
  ['d:ask', '-', '-', '-', 'ask', 'default', 'builtin default alone decides'],
  ['-', '-', '-', '-', 'ask', 'default', 'no verdict at all: ask'],
  ['deny', 'allow', '-', '-', 'allow', 'user:r', 'a user rule overrides a builtin rule (both ways)'],
  ['allow', 'deny', '-', '-', 'deny', 'user:r', 'a user rule overrides a builtin rule (both ways)'],
  ['deny', 'd:allow', '-', '-', 'deny', 'builtin:r', 'a user default does not switch off a builtin rule'],
  ['allow', 'd:ask', '-', '-', 'ask', 'default', 'a user default competes with a builtin rule: stricter wins'],
  ['d:deny', 'd:allow', '-', '-', 'allow', 'default', 'user defaults replace builtin defaults'],
  ['-', 'allow', 'deny', '-', 'deny', 'managed:r', 'managed deny cannot be loosened by a user allow'],
  ['-', 'allow', 'ask', '-', 'ask', 'managed:r', 'managed ask cannot be loosened by a user allow'],
  ['-', 'allow', 'log', '-', 'log', 'managed:r', 'managed log cannot be loosened by a user allow'],
  ['-', 'deny', 'allow', '-', 'deny', 'user:r', 'a user may be stricter than IT'],
  ['-', 'ask', 'allow', '-', 'ask', 'user:r', 'a user may be stricter than IT'],
  ['-', 'allow', 'd:deny', '-', 'deny', 'default', "IT's default deny (an allowlist) cannot be loosened by a user rule"],
  ['-', 'allow', 'd:deny+allow', '-', 'allow', 'managed:r', 'IT allows it explicitly: tie goes to the higher layer'],
  ['allow', '-', 'd:deny', '-', 'deny', 'default', "a builtin allow does not loosen IT's default deny"],
  ['-', 'allow', 'allow', 'deny', 'deny', 'fleet:r', 'fleet deny cannot be loosened'],
  ['-', '-', 'deny', 'allow', 'deny', 'managed:r', 'managed deny is not loosened by fleet either: strictest wins'],
  ['-', 'ask', 'deny', 'deny', 'deny', 'fleet:r', 'ties go to the highest layer'],
  ['allow', 'allow', 'allow', 'allow', 'allow', 'fleet:r', 'ties go to the highest layer'],
  ['deny', '-', 'allow', '-', 'allow', 'managed:r', 'IT may loosen a builtin rule'],
  ['-', 'd:deny', 'allow', '-', 'deny', 'default', "a user default deny tightens IT's allow"],
];

test('layering and no-loosening, from a table', () => {
  for (const [builtin, user, managed, fleet, action, rule, why] of TABLE) {
    const policy = layered({ builtin, user, managed, fleet });
    const d = run(policy, connect('x.example'));
    assert.equal(d.action, action, `${why} [${builtin} | ${user} | ${managed} | ${fleet}]: ${JSON.stringify(d)}`);
    assert.equal(d.rule, rule, `${why} [${builtin} | ${user} | ${managed} | ${fleet}]`);
  }
});

test('no user rule, whatever it says, loosens a managed or fleet verdict (exhaustive over actions)', () => {
  const actions = ['allow', 'log', 'ask', 'deny'] as const;
  const rank = { allow: 0, log: 1, ask: 2, deny: 3 };
  for (const it of ['managed', 'fleet'] as const) {
    for (const itAction of actions) {
      for (const userAction of actions) {
        for (const userCell of [userAction, `d:${userAction}`]) {
          const cells = { builtin: '-', user: userCell, managed: '-', fleet: '-', [it]: itAction };
          const d = run(layered(cells), connect('x.example'));
          assert.ok(rank[d.action] >= rank[itAction], `${it} ${itAction} loosened by user ${userCell} to ${d.action}`);
        }
      }
    }
  }
});

test('flags maps layer like defaults: a user rule naming a flag cannot loosen a managed flags map', () => {
  const policy = compilePolicy([
    source('builtin', 'version: 1\nflags:\n  paste-service: ask\n'),
    source('user', 'version: 1\nrules:\n  - id: ok\n    action: allow\n    flags: [paste-service]\n'),
    source('managed', 'version: 1\nflags:\n  paste-service: deny\n'),
  ]);
  const d = run(policy, connect('paste.example'), { flags: ['paste-service'] });
  assert.equal(d.action, 'deny');
  assert.equal(d.rule, 'managed:flags/paste-service');
  const withoutIt = compilePolicy([source('builtin', 'version: 1\ndefaults:\n  egress: allow\nflags:\n  paste-service: ask\n'), source('user', 'version: 1\nrules:\n  - id: ok\n    action: allow\n    flags: [paste-service]\n')]);
  assert.equal(run(withoutIt, connect('paste.example'), { flags: ['paste-service'] }).action, 'allow');
});

test('unattributed default: strictest of user/managed/fleet, else builtin', () => {
  const one = compilePolicy([source('builtin', 'version: 1\ndefaults:\n  unattributed: deny\n'), source('user', 'version: 1\ndefaults:\n  unattributed: log\n')]);
  assert.deepEqual(one.unattributed, { layer: 'user', action: 'log' });
  const two = compilePolicy([source('user', 'version: 1\ndefaults:\n  unattributed: allow\n'), source('managed', 'version: 1\ndefaults:\n  unattributed: ask\n')]);
  assert.deepEqual(two.unattributed, { layer: 'managed', action: 'ask' });
});

test('an invalid IT source fails closed; an invalid user source is ignored', () => {
  const problem = { file: 'x', line: 1, column: 1, path: '', severity: 'error' as const, message: 'broken' };
  const it = compilePolicy([source('user', 'version: 1\n'), { layer: 'managed', file: '/etc/x.yaml', status: 'invalid', problems: [problem] }]);
  assert.equal(it.failClosed, true);
  assert.equal(it.sources.find((s) => s.layer === 'managed')?.status, 'fail-closed');
  assert.equal(run(it, connect('a.example')).action, 'deny');
  const user = compilePolicy([source('builtin', 'version: 1\ndefaults:\n  egress: log\n'), { layer: 'user', file: '/home/u/p.yaml', status: 'invalid', problems: [problem] }]);
  assert.equal(user.failClosed, false);
  assert.equal(run(user, connect('a.example')).action, 'log');
  assert.deepEqual(user.problems, [problem]);
});

test('combineVerdicts: who is considered, and the winner', () => {
  const v = (layer: PolicyLayerName, action: Verdict<null>['action'], sourceKind: 'rule' | 'default'): Verdict<null> => ({ layer, action, source: sourceKind, rule: null, key: 'k' });
  const b = v('builtin', 'deny', 'rule');
  const u = v('user', 'allow', 'default');
  const m = v('managed', 'log', 'rule');
  assert.deepEqual(combineVerdicts([b]).considered, [b]);
  assert.deepEqual(combineVerdicts([b, u]).considered, [u, b]);
  assert.equal(combineVerdicts([b, u]).winner, b);
  assert.deepEqual(combineVerdicts([u, b, m]).considered, [m, u]);
  assert.equal(combineVerdicts([u, b, m]).winner, m);
  assert.equal(combineVerdicts([]).winner, null);
});
