// The safe directory index behind MCP discovery: bounded concurrency, deadlines for hung calls,
// depth- and count-bounded walks that survive symlink loops, and probes answered from listings.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createFsIndex, createLimiter, withDeadline } from '../../../app/discovery/mcp/fsIndex.ts';
import { makeTempDir, removeTempDir, writeTree } from '../../fixtures/homes/fs.ts';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await removeTempDir(root);
});

async function tree(files: Parameters<typeof writeTree>[1]): Promise<string> {
  const root = await makeTempDir('cordon-mcp-fsindex-');
  roots.push(root);
  await writeTree(root, files);
  return root;
}

describe('createLimiter', () => {
  test('never runs more than the cap at once, and runs everything', async () => {
    const limit = createLimiter(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setTimeout(resolve, i % 3));
          active--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => i));
  });
});

describe('withDeadline', () => {
  test('a call that never settles yields the fallback after the deadline', async () => {
    const started = performance.now();
    const value = await withDeadline(new Promise<string>(() => undefined), 30, 'timed out');
    assert.equal(value, 'timed out');
    assert.ok(performance.now() - started < 1000);
  });

  test('a call that settles in time yields its own value', async () => {
    assert.equal(await withDeadline(Promise.resolve('done'), 1000, 'timed out'), 'done');
  });
});

describe('walk', () => {
  test('stops at maxDepth', async () => {
    const root = await tree({ 'a/x.json': '{}', 'a/b/x.json': '{}', 'a/b/c/x.json': '{}' });
    const fs = createFsIndex(createLimiter(4), [root], 2000);
    const walked = await fs.walk(join(root, 'a'), { maxDepth: 1, match: (name) => name === 'x.json' });
    assert.deepEqual(walked.files, [join(root, 'a', 'b', 'x.json'), join(root, 'a', 'x.json')]);
  });

  test('stops after maxDirs directories', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`a/d${i}/x.json`] = '{}';
    const root = await tree(files);
    const fs = createFsIndex(createLimiter(4), [root], 2000);
    const walked = await fs.walk(join(root, 'a'), { maxDepth: 3, match: (name) => name === 'x.json', maxDirs: 5 });
    assert.equal(walked.dirs.length, 5);
    assert.equal(walked.files.length, 4);
  });

  test('a symlink loop back to an ancestor is entered once', async () => {
    const root = await tree({ 'a/x.json': '{}', 'a/b/up': { symlink: '..' }, 'a/b/self': { symlink: '.' } });
    const fs = createFsIndex(createLimiter(4), [root], 2000);
    const walked = await fs.walk(join(root, 'a'), { maxDepth: 10, match: (name) => name === 'x.json' });
    assert.deepEqual(walked.files, [join(root, 'a', 'x.json')]);
  });

  test('skipped directory names are not entered', async () => {
    const root = await tree({ 'a/node_modules/x.json': '{}', 'a/keep/x.json': '{}' });
    const fs = createFsIndex(createLimiter(4), [root], 2000);
    const walked = await fs.walk(join(root, 'a'), { maxDepth: 3, match: (name) => name === 'x.json', skip: new Set(['node_modules']) });
    assert.deepEqual(walked.files, [join(root, 'a', 'keep', 'x.json')]);
  });
});

describe('probe', () => {
  test('absent, present and blocked (a parent that is a symlink loop)', async () => {
    const root = await tree({ 'home/a/b.json': '{}', 'home/loop': { symlink: 'loop' } });
    const home = join(root, 'home');
    const fs = createFsIndex(createLimiter(4), [home], 2000);
    fs.expect([join(home, 'a', 'b.json'), join(home, 'a', 'c.json'), join(home, 'a', 'd.json')]);
    assert.equal((await fs.probe(join(home, 'a', 'b.json'))).kind, 'present');
    assert.equal((await fs.probe(join(home, 'a', 'c.json'))).kind, 'absent');
    assert.equal((await fs.probe(join(home, 'missing', 'deeper', 'x.json'))).kind, 'absent');
    assert.equal(fs.probeNow(join(home, 'a', 'd.json'))?.kind, 'absent', 'answered from the cached listing without waiting');
    const looped = await fs.list(join(home, 'loop'));
    assert.equal(looped.kind === 'error' ? looped.category : looped.kind, 'symlink-loop');
  });
});
