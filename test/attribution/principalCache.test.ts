import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../app/api/inventory.ts';
import { createAttributor, PRINCIPAL_CACHE_TTL_MS, type Attributor, type AttributorOptions } from '../../app/attribution/index.ts';
import { createLinuxSource } from '../../app/attribution/linux/linuxSource.ts';
import { agent, inventoryOf } from '../discovery/inventoryFixtures.ts';

const linux = process.platform === 'linux';
const children = new Set<ChildProcess>();
const attributors: Attributor[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const a of attributors) a.close();
});

function make(options: AttributorOptions): Attributor {
  const attributor = createAttributor({ sockDiag: false, ...options });
  attributors.push(attributor);
  return attributor;
}

/** A child that lives until its stdin closes (or, for sh, until it execs what stdin names). */
function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  children.add(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('attributePid walks the chain once and reuses it for the same process', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  let clock = 1_000_000;
  const attributor = make({ inventory: () => null, now: () => clock });
  const child = start(process.execPath, ['-e', 'process.stdin.resume()']);
  try {
    const first = await attributor.attributePid(child.pid!);
    assert.equal(first.attributed, true, first.reason);
    assert.deepEqual(first.chain.slice(0, 2).map((p) => p.pid), [child.pid, process.pid]);
    const reads = attributor.stats().processReads + attributor.stats().processCacheHits;

    clock += PRINCIPAL_CACHE_TTL_MS - 1;
    const second = await attributor.attributePid(child.pid!);
    assert.equal(second, first, 'the cached principal itself');
    const stats = attributor.stats();
    assert.equal(stats.principalCacheHits, 1);
    assert.equal(stats.attributions, 2);
    assert.equal(stats.processReads + stats.processCacheHits, reads + 1, 'one process read (the check), not one per ancestor');

    // Old enough: the chain is walked again, and that answer is the one reused next.
    clock += 1;
    const third = await attributor.attributePid(child.pid!);
    assert.notEqual(third, first);
    assert.deepEqual(third.chain.map((p) => p.pid), first.chain.map((p) => p.pid));
    assert.equal(attributor.stats().principalCacheHits, 1);
    assert.equal(await attributor.attributePid(child.pid!), third);
    assert.equal(attributor.stats().principalCacheHits, 2);

    // clearCaches drops it.
    attributor.clearCaches();
    assert.notEqual(await attributor.attributePid(child.pid!), third);
    assert.equal(attributor.stats().principalCacheHits, 2);
  } finally {
    await stop(child);
  }
});

test('a process that exits, or execs another program, is never answered from the cache', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  const attributor = make({ inventory: () => null });
  const shell = start('sh', ['-c', 'read target; exec "$target" 30']);
  const sleeper = realpathSync('/bin/sleep');
  try {
    const before = await attributor.attributePid(shell.pid!);
    assert.equal(before.attributed, true, before.reason);
    assert.notEqual(before.chain[0]?.exe, sleeper);
    shell.stdin!.write(`${sleeper}\n`);
    // The exe link changes inside execve before the new arguments are in place: wait for both.
    await until(() => readlinkSync(`/proc/${shell.pid}/exe`) === sleeper && readFileSync(`/proc/${shell.pid}/cmdline`).length > 0, 'the exec');
    const after = await attributor.attributePid(shell.pid!);
    assert.equal(after.chain[0]?.exe, sleeper, 'same pid and start time, new executable: a new principal');
    assert.deepEqual(after.chain[0]?.argv, [sleeper, '30']);
    assert.equal(attributor.stats().principalCacheHits, 0);

    await stop(shell);
    const gone = await attributor.attributePid(shell.pid!);
    assert.equal(gone.attributed, false);
    assert.match(gone.reason ?? '', /^process-exited: /);
    assert.equal(attributor.stats().principalCacheHits, 0);
  } finally {
    await stop(shell);
  }
});

test('a new inventory is a cache miss: the same chain is matched against it', { skip: !linux && 'Linux /proc only', timeout: 20_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cordon-principal-cache-')));
  const script = join(root, 'codex.js');
  writeFileSync(script, 'process.stdin.resume();\n');
  let inventory: Inventory = inventoryOf([], []);
  const attributor = make({ inventory: () => inventory });
  const child = start(process.execPath, [script]);
  try {
    const unknown = await attributor.attributePid(child.pid!);
    assert.equal(unknown.agent, null);
    inventory = inventoryOf([agent('codex', { id: 'agent_test_codex', path: script })], []);
    const known = await attributor.attributePid(child.pid!);
    assert.equal(known.agent?.id, 'agent_test_codex');
    assert.equal(known.agent?.pid, child.pid);
    assert.equal(attributor.stats().principalCacheHits, 0);
    assert.equal(await attributor.attributePid(child.pid!), known);
  } finally {
    await stop(child);
    rmSync(root, { recursive: true, force: true });
  }
});

test('fixture /proc: a reused pid (same executable, new start time) is a new principal', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cordon-proc-reuse-'));
  /** /proc/<pid> for a process with this parent and start time (stat field 22). */
  const proc = (pid: number, ppid: number, start: number, argv: string[]): void => {
    const dir = join(root, String(pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const fields = ['S', ppid, pid, pid, 0, -1, 4194560, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, start, 1000, 100];
    writeFileSync(join(dir, 'stat'), `${pid} (node) ${fields.join(' ')}\n`);
    writeFileSync(join(dir, 'status'), 'Name:\tnode\nUid:\t1000\t1000\t1000\t1000\n');
    writeFileSync(join(dir, 'cmdline'), `${argv.join('\0')}\0`);
    symlinkSync('/usr/bin/node', join(dir, 'exe'));
    symlinkSync('/home/u', join(dir, 'cwd'));
  };
  try {
    writeFileSync(join(root, 'stat'), 'btime 1700000000\n');
    proc(50, 0, 10, ['bash']);
    proc(60, 50, 20, ['node', 'first.js']);
    const attributor = make({ inventory: () => null, source: createLinuxSource({ procRoot: root, uid: 1000, sockDiag: false }) });
    const first = await attributor.attributePid(60);
    assert.deepEqual(first.chain.map((p) => p.argv[1] ?? p.argv[0]), ['first.js', 'bash']);
    assert.equal(await attributor.attributePid(60), first);
    // Process 60 exits; a new process gets pid 60, under another parent.
    proc(70, 0, 30, ['zsh']);
    proc(60, 70, 40, ['node', 'second.js']);
    const second = await attributor.attributePid(60);
    assert.deepEqual(second.chain.map((p) => p.argv[1] ?? p.argv[0]), ['second.js', 'zsh']);
    assert.equal(attributor.stats().principalCacheHits, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
