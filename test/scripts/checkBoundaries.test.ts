import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const script = new URL('../../scripts/check-boundaries.ts', import.meta.url).pathname;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cordon-boundaries-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function run(root: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('a tree that keeps the boundaries passes', () => {
  const root = tree({
    'app/api/x.ts': "import type { Y } from './y.ts';\n",
    'app/core.ts': "import { readFileSync } from 'node:fs';\nimport type { X } from './api/x.ts';\n",
    'renderer/page.tsx': "import type { X } from '../app/api/x.ts';\nimport { useState } from 'react';\n",
    'main/tray.ts': "import { app } from 'electron';\nimport { connectControl } from '../app/client/controlClient.ts';\n",
    'server/http.ts': "import { verify } from '../app/identity/verify.ts';\n",
  });
  try {
    assert.equal(run(root).status, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

for (const [name, files, rule] of [
  ['app/ importing electron', { 'app/x.ts': "import { app } from 'electron';\n" }, 'headless'],
  ['app/ importing main/ relatively', { 'app/x.ts': "import { y } from '../main/tray.ts';\n" }, 'never the reverse'],
  ['app/api importing a Node built-in', { 'app/api/x.ts': "import { readFileSync } from 'node:fs';\n" }, 'no packages'],
  ['app/api importing app/util', { 'app/api/x.ts': "import { y } from '../util/log.ts';\n" }, 'pure contract'],
  ['renderer/ importing fs', { 'renderer/x.ts': "import fs from 'fs/promises';\n" }, 'Node built-ins'],
  ['renderer/ importing better-sqlite3', { 'renderer/x.ts': "import Database from 'better-sqlite3';\n" }, 'native modules'],
  ['renderer/ importing app/ internals', { 'renderer/x.ts': "import { scan } from '../app/discovery/scan.ts';\n" }, 'only renderer/ and app/api'],
  ['renderer/ dynamic import of node:child_process', { 'renderer/x.ts': "const m = await import('node:child_process');\n" }, 'Node built-ins'],
  ['server/ requiring electron', { 'server/x.ts': "const e = require('electron');\n" }, 'electron'],
  ['main/ importing app/ internals', { 'main/x.ts': "import { startDaemon } from '../app/daemon/daemon.ts';\n" }, 'thin client'],
] as const) {
  test(`refuses ${name}`, () => {
    const root = tree(files as Record<string, string>);
    try {
      const r = run(root);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(rule));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
