import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInodeIndex } from '../../app/attribution/linux/inodeIndex.ts';

/** A fake /proc with processes (pid -> {fd: link}) and, optionally, a thread whose Tgid is another pid. */
function fakeProc(root: string, pid: number, fds: Record<string, string>, tgid = pid): void {
  const dir = join(root, String(pid));
  mkdirSync(join(dir, 'fd'), { recursive: true });
  writeFileSync(join(dir, 'status'), `Name:\tx\nUmask:\t0022\nState:\tS\nTgid:\t${tgid}\nPid:\t${pid}\n`);
  for (const [fd, link] of Object.entries(fds)) symlinkSync(link, join(dir, 'fd', fd));
}

function setLastPid(root: string, pid: number): void {
  writeFileSync(join(root, 'loadavg'), `0.10 0.20 0.30 1/200 ${pid}\n`);
}

function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'cordon-inode-'));
  mkdirSync(join(root, 'sys', 'kernel'), { recursive: true });
  writeFileSync(join(root, 'sys', 'kernel', 'pid_max'), '4000\n');
  fakeProc(root, 500, { 0: '/dev/null', 3: 'socket:[1001]', 4: 'socket:[1002]' });
  fakeProc(root, 900, { 0: '/dev/null', 7: 'pipe:[5]', 9: 'socket:[2001]' });
  setLastPid(root, 900);
  return root;
}

test('findOwner scans, remembers every socket it reads, and verifies cached owners with one readlink', () => {
  const root = fixture();
  try {
    const index = createInodeIndex(root);
    assert.equal(index.findOwner(2001, null), 900);
    assert.equal(index.findOwner(1002, null), 500);
    assert.equal(index.findOwner(9999, null), null);
    assert.equal(index.findOwner(0, null), null);
    const scans = index.counters().ownerScans;
    assert.equal(index.findOwner(2001, null), 900);
    assert.equal(index.counters().ownerScans, scans, 'a remembered socket needs no scan');
    // The holder closed it and the fd now points elsewhere: the cache entry is dropped, not trusted.
    rmSync(join(root, '900', 'fd', '9'));
    symlinkSync('socket:[3001]', join(root, '900', 'fd', '9'));
    assert.equal(index.findOwner(2001, null), null);
    assert.equal(index.findOwner(3001, null), 900);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prefetchNew reads only processes created since the last look (by /proc/loadavg), skipping threads', () => {
  const root = fixture();
  try {
    const index = createInodeIndex(root);
    index.prefetchNew(); // before any listing: nothing to compare with, nothing read
    assert.equal(index.findOwner(1001, null), 500);
    assert.equal(index.counters().ownerScans, 1);
    fakeProc(root, 950, { 5: 'socket:[4001]' });
    fakeProc(root, 951, { 5: 'socket:[4001]' }, 950); // a thread of 950: same fd table, not a process
    setLastPid(root, 951);
    index.prefetchNew();
    assert.equal(index.findOwner(4001, null), 950);
    assert.deepEqual(index.counters(), { ownerCacheHits: 1, ownerScans: 1 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('prefetchNew follows a pid wrap past pid_max and gives up when too many pids are new', () => {
  const root = fixture();
  try {
    const index = createInodeIndex(root);
    setLastPid(root, 3990);
    assert.equal(index.findOwner(1001, null), 500); // lists /proc; the last created pid is now 3990
    fakeProc(root, 3995, { 3: 'socket:[5001]' });
    fakeProc(root, 305, { 3: 'socket:[5002]' });
    setLastPid(root, 305); // wrapped: 3991..3999, then 300..305
    index.prefetchNew();
    assert.equal(index.findOwner(5001, null), 3995);
    assert.equal(index.findOwner(5002, null), 305);
    assert.equal(index.counters().ownerScans, 1);
    fakeProc(root, 2000, { 3: 'socket:[6001]' });
    setLastPid(root, 2000); // 1695 new pids: more than a prefetch probes
    index.prefetchNew();
    assert.equal(index.findOwner(6001, null), 2000);
    assert.equal(index.counters().ownerScans, 2, 'found by a listing instead');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the uid filter narrows the scan first but does not hide a socket held by another uid', () => {
  const root = fixture();
  try {
    const index = createInodeIndex(root);
    // Every fixture dir is owned by the test's uid; a socket claimed by uid 4242 is still found.
    assert.equal(index.findOwner(1002, 4242), 500);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
