import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { buildMain, toPreloadScript } from '../../main/build.ts';
import type * as StateMachine from '../../main/tray/stateMachine.ts';
import type * as Validate from '../../main/ipc/validate.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

test('the build writes runnable JavaScript for main and a self-contained preload script', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'cordon-main-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const files = buildMain(repo, out);
  assert.ok(files.some((f) => f.endsWith(join('main', 'index.js'))));
  const preload = readFileSync(join(out, 'main', 'preload', 'index.cjs'), 'utf8');
  // A classic script (no import/export) whose only require is electron.
  assert.doesNotThrow(() => new Script(preload));
  assert.deepEqual([...preload.matchAll(/require\(['"]([^'"]+)['"]\)/g)].map((m) => m[1]), ['electron']);
  assert.match(readFileSync(join(out, 'main', 'index.js'), 'utf8'), /from '\.\/daemonLink\.js'/);
  // The pure modules run as built.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  const built = (await import(pathToFileURL(join(out, 'main', 'tray', 'stateMachine.js')).href)) as typeof StateMachine;
  assert.equal(built.trayState(built.INITIAL_TRAY, 0), 'daemon-down');
  const validate = (await import(pathToFileURL(join(out, 'main', 'ipc', 'validate.js')).href)) as typeof Validate;
  assert.equal(validate.checkCall('shutdown', {}).ok, false);
});

test('a preload that imports anything but electron is refused', () => {
  assert.throws(() => toPreloadScript("import { x } from './other.ts';\nx();\n"), /only electron/);
  assert.throws(() => toPreloadScript("import { ipcRenderer } from 'electron';\nexport const a = 1;\n"), /only electron/);
});
