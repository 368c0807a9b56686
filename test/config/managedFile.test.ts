import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { insecureReason, readManagedFile } from '../../app/config/managed/secureFile.ts';
import { readManagedJsonFile } from '../../app/config/managed/linux.ts';
import { managedSettingsPaths, readManagedSettings } from '../../app/config/managed/index.ts';
import { macosManagedPlistPaths } from '../../app/config/managed/darwin.ts';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('managed file hardening', () => {
  it('accepts only root-owned files no group or other user can write', () => {
    assert.equal(insecureReason({ uid: 0, mode: 0o100644 }, 'the file'), null);
    assert.equal(insecureReason({ uid: 0, mode: 0o100600 }, 'the file'), null);
    assert.match(insecureReason({ uid: 1000, mode: 0o100644 }, 'the file') ?? '', /owned by uid 1000, not root/);
    assert.match(insecureReason({ uid: 0, mode: 0o100666 }, 'the file') ?? '', /writable by group or others \(mode 0666\)/);
    assert.match(insecureReason({ uid: 0, mode: 0o100664 }, 'the file') ?? '', /mode 0664/);
    assert.match(insecureReason({ uid: 0, mode: 0o041777 }, 'its directory /tmp') ?? '', /directory \/tmp is writable/);
  });

  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-managed-'));
    await chmod(dir, 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ignores a world-writable managed file, with the reason, unless the path was overridden', async () => {
    const file = join(dir, 'managed.json');
    await writeFile(file, '{"mode": "enforce"}');
    await chmod(file, 0o666);
    const checked = await readManagedJsonFile(file, true);
    assert.equal(checked.present, true);
    assert.equal(checked.layers.enforced.size, 0);
    assert.equal(checked.layers.problems[0]?.kind, 'insecure');
    assert.equal(checked.layers.problems[0]?.severity, 'error');
    assert.match(checked.layers.problems[0]?.message ?? '', /^ignored: /);

    const overridden = await readManagedJsonFile(file, false);
    assert.deepEqual(overridden.layers.problems, []);
    assert.deepEqual(overridden.layers.enforced.get('mode'), { file, label: 'mode', value: 'enforce' });
  });

  it('ignores a file in a directory others can write (they could swap it)', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const file = join(open, 'managed.json');
    await writeFile(file, '{}');
    await chmod(file, 0o644);
    const read = await readManagedFile(file, true);
    assert.equal(read.kind, 'insecure');
  });

  it('reads a root-owned 0644 file in a 0755 directory', { skip: !isRoot && 'needs root to own the file' }, async () => {
    const file = join(dir, 'good.json');
    await writeFile(file, '{"mode": "enforce"}');
    await chmod(file, 0o644);
    const read = await readManagedJsonFile(file, true);
    assert.deepEqual(read.layers.problems, []);
    assert.equal((read.layers.enforced.get('mode') as { value: unknown }).value, 'enforce');
  });

  it('refuses FIFOs, directories and oversized files without blocking', async () => {
    assert.equal((await readManagedFile(dir, false)).kind, 'unreadable');
    const big = join(dir, 'big.json');
    await writeFile(big, Buffer.alloc(1024 * 1024 + 10, 0x20));
    const read = await readManagedFile(big, false);
    assert.equal(read.kind, 'unreadable');
    assert.equal((await readManagedFile(join(dir, 'absent.json'), true)).kind, 'missing');
    const fifo = join(dir, 'fifo.json');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      const fromFifo = await readManagedFile(fifo, false);
      assert.deepEqual(fromFifo, { kind: 'unreadable', message: 'not a regular file' });
    }
  });
});

describe('managed locations and the CORDON_MANAGED_SETTINGS override', () => {
  it('names the system locations per platform', () => {
    assert.deepEqual(managedSettingsPaths('linux', {}).paths, ['/etc/cordon/managed.json']);
    assert.deepEqual(managedSettingsPaths('win32', {}).paths, ['HKLM\\SOFTWARE\\Policies\\Cordon']);
    assert.deepEqual(managedSettingsPaths('darwin', {}, 'ada').paths, [
      '/Library/Managed Preferences/dev.cordon.agent.plist',
      '/Library/Managed Preferences/ada/dev.cordon.agent.plist',
    ]);
    assert.deepEqual(macosManagedPlistPaths('../etc'), ['/Library/Managed Preferences/dev.cordon.agent.plist']);
    const over = managedSettingsPaths('linux', { CORDON_MANAGED_SETTINGS: '/tmp/x.plist' });
    assert.deepEqual([over.paths, over.format, over.overridden, over.systemPaths], [['/tmp/x.plist'], 'plist', true, ['/etc/cordon/managed.json']]);
  });

  it('ignores the override while IT-managed settings exist (here: a Windows policy key)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-override-'));
    try {
      const file = join(dir, 'mine.json');
      await writeFile(file, '{"mode": "monitor"}');
      const policy = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Cordon\r\n    mode    REG_SZ    enforce\r\n\r\n';
      const read = await readManagedSettings({
        platform: 'win32',
        env: { CORDON_MANAGED_SETTINGS: file },
        runRegistryQuery: async () => ({ kind: 'ok', stdout: policy }),
      });
      assert.equal(read.info.overridden, false);
      assert.equal(read.info.path, 'HKLM\\SOFTWARE\\Policies\\Cordon');
      assert.equal((read.layers.enforced.get('mode') as { value: unknown }).value, 'enforce');
      const refusal = read.layers.problems.find((p) => p.kind === 'override');
      assert.equal(refusal?.severity, 'error');
      assert.match(refusal?.message ?? '', /CORDON_MANAGED_SETTINGS is ignored/);

      const honoured = await readManagedSettings({
        platform: 'win32',
        env: { CORDON_MANAGED_SETTINGS: file },
        runRegistryQuery: async () => ({ kind: 'missing' }),
      });
      assert.equal(honoured.info.overridden, true);
      assert.equal(honoured.info.path, file);
      assert.equal((honoured.layers.enforced.get('mode') as { value: unknown }).value, 'monitor');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
