/**
 * watchPaths on a real file system: files edited in place and replaced by rename, files and
 * whole trees that do not exist yet, directories (children, depth 0), removal and re-creation,
 * symbolic links, unwatching, and one OS watch per directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { watchPaths, type PathWatcher } from '../../app/util/pathWatch.ts';

const roots: string[] = [];
const watchers: PathWatcher[] = [];
after(async () => {
  for (const w of watchers) await w.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cordon-pathwatch-')));
  roots.push(root);
  return root;
}

/** A watcher whose events are collected; `next(path)` waits for an event about that path. */
function collect(paths: string[]): { watcher: PathWatcher; events: string[]; next(path: string, what?: string): Promise<void>; quiet(ms?: number): Promise<string[]> } {
  const events: string[] = [];
  const waiters: { path: string; resolve(): void }[] = [];
  const watcher = watchPaths(paths, {
    onChange(path) {
      events.push(path);
      for (const w of waiters.splice(0)) {
        if (w.path === path) w.resolve();
        else waiters.push(w);
      }
    },
  });
  watchers.push(watcher);
  return {
    watcher,
    events,
    next(path, what = path) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event for ${what} within 5 s; saw ${JSON.stringify(events)}`)), 5000);
        waiters.push({ path, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    async quiet(ms = 300) {
      const start = events.length;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return events.slice(start);
    },
  };
}

test('a file: edits in place, replacement by rename, removal and re-creation are all seen', async () => {
  const root = tempRoot();
  const file = join(root, 'settings.json');
  writeFileSync(file, '{}');
  const w = collect([file]);
  let seen = w.next(file, 'edit in place');
  writeFileSync(file, '{"a":1}');
  await seen;
  seen = w.next(file, 'atomic replace');
  writeFileSync(join(root, 'settings.json.tmp'), '{"a":2}');
  renameSync(join(root, 'settings.json.tmp'), file);
  await seen;
  seen = w.next(file, 'edit after the replace (the watch survived it)');
  writeFileSync(file, '{"a":3}');
  await seen;
  seen = w.next(file, 'removal');
  rmSync(file);
  await seen;
  seen = w.next(file, 're-creation');
  writeFileSync(file, '{}');
  await seen;
  assert.deepEqual(w.watcher.stats(), { paths: 1, directories: 1 });
  await w.quiet(); // the re-creation's own later events (a create is a rename, then a change)
  writeFileSync(join(root, 'unrelated.txt'), 'x');
  const others = await w.quiet();
  assert.deepEqual(others, [], `a sibling file is not reported: ${JSON.stringify(others)}`);
});

test('a missing file under missing directories: the watch moves down as they appear, and the file is reported', async () => {
  const root = tempRoot();
  const file = join(root, 'a', 'b', 'c', 'mcp.json');
  const w = collect([file]);
  assert.deepEqual(w.watcher.stats(), { paths: 1, directories: 1 });
  mkdirSync(join(root, 'a'));
  assert.deepEqual(await w.quiet(), [], 'a directory on the way is not itself a change');
  let seen = w.next(file, 'creation of the whole rest of the tree at once');
  mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(file, '{}');
  await seen;
  seen = w.next(file, 'an edit once it exists');
  writeFileSync(file, '{"mcpServers":{}}');
  await seen;
  assert.deepEqual(w.watcher.stats(), { paths: 1, directories: 1 }, 'only the file\'s own directory is watched now');
  seen = w.next(file, 'its directory removed');
  rmSync(join(root, 'a'), { recursive: true });
  await seen;
  seen = w.next(file, 'and created again');
  mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(file, '{}');
  await seen;
});

test('a directory: its children are reported (depth 0), grandchildren are not; removed and re-created, it is watched again', async () => {
  const root = tempRoot();
  const dir = join(root, 'extensions');
  mkdirSync(join(dir, 'old-ext'), { recursive: true });
  const w = collect([dir]);
  let seen = w.next(join(dir, 'new-ext'), 'a new child');
  mkdirSync(join(dir, 'new-ext'));
  await seen;
  writeFileSync(join(dir, 'old-ext', 'package.json'), '{}');
  assert.deepEqual(await w.quiet(), [], 'a grandchild is not reported');
  seen = w.next(dir, 'the directory removed');
  rmSync(dir, { recursive: true });
  await seen;
  seen = w.next(dir, 'the directory created again');
  mkdirSync(dir);
  await seen;
  seen = w.next(join(dir, 'third'), 'a child of the new directory');
  writeFileSync(join(dir, 'third'), '');
  await seen;
});

test('a symbolic link to a file elsewhere: edits of the target are reported as the link', async () => {
  const root = tempRoot();
  mkdirSync(join(root, 'dotfiles'));
  mkdirSync(join(root, 'home'));
  const target = join(root, 'dotfiles', 'settings.json');
  const link = join(root, 'home', 'settings.json');
  writeFileSync(target, '{}');
  symlinkSync(target, link);
  const w = collect([link]);
  const seen = w.next(link, 'an edit of the link target');
  writeFileSync(target, '{"hooks":{}}');
  await seen;
});

test('one OS watch per directory, shared; unwatch and close release them', async () => {
  const root = tempRoot();
  const files = ['a.json', 'b.json', 'c.json'].map((f) => join(root, f));
  for (const f of files) writeFileSync(f, '{}');
  const w = collect(files);
  assert.deepEqual(w.watcher.stats(), { paths: 3, directories: 1 });
  w.watcher.unwatch([files[0] ?? '']);
  assert.deepEqual(w.watcher.stats(), { paths: 2, directories: 1 });
  writeFileSync(files[0] ?? '', '{"x":1}');
  assert.deepEqual(await w.quiet(), [], 'an unwatched file is not reported');
  w.watcher.add([files[0] ?? '', 'relative/path.json']);
  assert.deepEqual(w.watcher.stats(), { paths: 3, directories: 1 }, 'a relative path is refused');
  w.watcher.unwatch(files);
  assert.deepEqual(w.watcher.stats(), { paths: 0, directories: 0 });
  w.watcher.add(files);
  await w.watcher.close();
  assert.deepEqual(w.watcher.stats(), { paths: 0, directories: 0 });
  writeFileSync(files[1] ?? '', '{"x":2}');
  assert.deepEqual(await w.quiet(), [], 'nothing after close');
});
