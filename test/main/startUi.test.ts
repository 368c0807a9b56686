import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronBinary, startPlan } from '../../scripts/start-ui.ts';

test('npm start runs Electron only when its binary is really installed, else the web console', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cordon-start-ui-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(startPlan(root, {}).kind, 'web');
  const pkg = join(root, 'node_modules', 'electron');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'path.txt'), 'electron');
  // path.txt without the binary (ELECTRON_SKIP_BINARY_DOWNLOAD): still the web console.
  assert.equal(electronBinary(root, {}), null);
  assert.deepEqual(startPlan(root, {}).args.slice(-1), ['ui']);
  writeFileSync(join(pkg, 'dist', 'electron'), '');
  const plan = startPlan(root, {});
  assert.equal(plan.kind, 'electron');
  assert.equal(plan.command, join(pkg, 'dist', 'electron'));
  assert.deepEqual(plan.args, [join(root, 'dist', 'electron', 'main', 'index.js')]);
});
