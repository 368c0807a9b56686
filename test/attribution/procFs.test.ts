import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxSource } from '../../app/attribution/linux/linuxSource.ts';
import { parseBootTimeMs, parseCmdline, parseStat, parseStatusUid } from '../../app/attribution/linux/procFs.ts';
import { parsePasswd } from '../../app/attribution/linux/users.ts';
import { createAttributor } from '../../app/attribution/index.ts';

/** A /proc/<pid>/stat line: fields after comm; starttime is field 22. */
function statLine(pid: number, comm: string, ppid: number, session: number, tty: number, startTicks: number): string {
  const rest = ['S', ppid, pid, session, tty, -1, 4194560, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, startTicks, 1000, 100];
  return `${pid} (${comm}) ${rest.join(' ')}\n`;
}

type FakeProc = { pid: number; comm: string; ppid: number; session: number; tty: number; start: number; uid: number; exe: string; cwd: string; argv: string[]; fds: Record<string, string> };

function fakeProc(root: string, p: FakeProc): void {
  const dir = join(root, String(p.pid));
  mkdirSync(join(dir, 'fd'), { recursive: true });
  writeFileSync(join(dir, 'stat'), statLine(p.pid, p.comm, p.ppid, p.session, p.tty, p.start));
  writeFileSync(join(dir, 'status'), `Name:\t${p.comm}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\nGid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`);
  writeFileSync(join(dir, 'cmdline'), `${p.argv.join('\0')}\0`);
  symlinkSync(p.exe, join(dir, 'exe'));
  symlinkSync(p.cwd, join(dir, 'cwd'));
  for (const [fd, target] of Object.entries(p.fds)) symlinkSync(target, join(dir, 'fd', fd));
}

/** A fake /proc: zsh (terminal session leader) -> claude -> bash -> curl, curl holding socket 5555. */
function fakeProcRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cordon-proc-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1700000000\nprocesses 100\n');
  writeFileSync(
    join(root, 'net', 'tcp'),
    [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 20 4 30 10 -1',
      '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 5556 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:C351 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  2000        0 7777 1 0000000000000000 20 4 30 10 -1',
      '   3: 0100007F:C352 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
      '   4: 0100007F:C353 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 9999 1 0000000000000000 20 4 30 10 -1',
      '',
    ].join('\n'),
  );
  writeFileSync(join(root, 'net', 'tcp6'), '  sl  local_address                         remote_address                        st tx_queue\n');
  fakeProc(root, { pid: 90, comm: 'zsh', ppid: 80, session: 90, tty: 34816, start: 100, uid: 1000, exe: '/usr/bin/zsh', cwd: '/home/u', argv: ['-zsh'], fds: { 0: '/dev/pts/0' } });
  fakeProc(root, { pid: 100, comm: 'claude', ppid: 90, session: 90, tty: 34816, start: 200, uid: 1000, exe: '/home/u/.local/share/claude/versions/2.1.0', cwd: '/home/u/proj', argv: ['claude'], fds: { 0: '/dev/pts/0', 20: 'socket:[4444]' } });
  fakeProc(root, { pid: 110, comm: 'bash', ppid: 100, session: 110, tty: 0, start: 300, uid: 1000, exe: '/usr/bin/bash', cwd: '/home/u/proj', argv: ['/bin/bash', '-c', 'curl -H "Authorization: Bearer abc" http://127.0.0.1:8080/'], fds: {} });
  fakeProc(root, { pid: 120, comm: 'curl (x) y', ppid: 110, session: 110, tty: 0, start: 310, uid: 1000, exe: '/usr/bin/curl', cwd: '/home/u/proj', argv: ['curl', '-H', 'Authorization: Bearer abc', 'http://127.0.0.1:8080/'], fds: { 0: '/dev/null', 1: 'pipe:[1]', 3: 'socket:[5555]' } });
  return root;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\n# comment\nu:x:1000:1000::/home/u:/bin/zsh\nbroken line\nother:x:2000:2000::/home/o:/bin/sh\n';

test('parseStat counts fields from the last parenthesis (comm may hold spaces and parentheses)', () => {
  const stat = parseStat(statLine(120, 'curl (x) y', 110, 110, 0, 310));
  assert.deepEqual(stat, { pid: 120, comm: 'curl (x) y', state: 'S', ppid: 110, session: 110, ttyNr: 0, startTicks: 310 });
  assert.equal(parseStat('garbage'), null);
  assert.equal(parseStat('12 (x) S'), null);
});

test('status Uid, cmdline, btime and passwd parsing', () => {
  assert.equal(parseStatusUid('Name:\tx\nUid:\t1000\t0\t0\t0\n'), 1000);
  assert.equal(parseStatusUid('Name:\tx\n'), null);
  assert.deepEqual(parseCmdline(Buffer.from('node\0/a b/cli.js\0--x\0')), ['node', '/a b/cli.js', '--x']);
  assert.deepEqual(parseCmdline(Buffer.from('')), []);
  assert.deepEqual(parseCmdline(Buffer.from('chrome --type=renderer')), ['chrome --type=renderer']);
  assert.equal(parseBootTimeMs('cpu 1\nbtime 1700000000\n'), 1_700_000_000_000);
  assert.deepEqual([...parsePasswd(PASSWD)], [[0, 'root'], [1000, 'u'], [2000, 'other']]);
});

test('fixture /proc: the client socket -> curl, its chain up to the terminal session leader, user names and start times', async () => {
  const root = fakeProcRoot();
  writeFileSync(join(root, 'passwd'), PASSWD);
  try {
    const source = createLinuxSource({ procRoot: root, uid: 1000, littleEndian: true, passwdFile: join(root, 'passwd') });
    const owner = await source.findSocketOwner({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 0xc350 }, { allowOtherUsers: false });
    assert.deepEqual(owner, { found: true, pid: 120 });
    const curl = await source.readProcess(120);
    assert.deepEqual(curl?.info, {
      pid: 120,
      ppid: 110,
      exe: '/usr/bin/curl',
      argv: ['curl', '-H', 'Authorization: Bearer abc', 'http://127.0.0.1:8080/'],
      uid: 1000,
      user: 'u',
      cwd: '/home/u/proj',
      startTimeMs: 1_700_000_000_000 + 3100,
    });
    // Another lookup of the same socket is a verified cache hit, not a scan.
    await source.findSocketOwner({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 0xc350 }, { allowOtherUsers: false });
    assert.deepEqual(source.counters().ownerScans, 1);
    assert.deepEqual(source.counters().ownerCacheHits, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fixture /proc: a process caught inside execve (exe set, cmdline empty) is named by comm and read again', async () => {
  const root = fakeProcRoot();
  try {
    const source = createLinuxSource({ procRoot: root, uid: 1000, littleEndian: true, passwdFile: join(root, 'passwd') });
    writeFileSync(join(root, '120', 'cmdline'), '');
    assert.deepEqual((await source.readProcess(120))?.info.argv, ['curl (x) y']);
    writeFileSync(join(root, '120', 'cmdline'), 'curl\0-s\0');
    assert.deepEqual((await source.readProcess(120))?.info.argv, ['curl', '-s'], 'the half-done read was not cached');
    assert.equal(source.counters().processReads, 2);
    assert.deepEqual((await source.readProcess(120))?.info.argv, ['curl', '-s']);
    assert.equal(source.counters().processCacheHits, 1, 'a complete read is cached');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fixture /proc: unattributed outcomes carry a code and never throw', async () => {
  const root = fakeProcRoot();
  try {
    const source = createLinuxSource({ procRoot: root, uid: 1000, littleEndian: true });
    const conn = (port: number) => ({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '::ffff:127.0.0.1', remotePort: port });
    const code = async (port: number): Promise<string> => {
      const owner = await source.findSocketOwner(conn(port), { allowOtherUsers: false });
      return owner.found ? `pid ${owner.pid}` : owner.code;
    };
    assert.equal(await code(0xc351), 'other-user');
    assert.equal(await code(0xc352), 'socket-orphaned');
    assert.equal(await code(0xc353), 'owner-not-found');
    assert.equal(await code(0xc354), 'socket-not-found');
    const bad = await source.findSocketOwner({ localAddress: 'nonsense', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 1 }, { allowOtherUsers: false });
    assert.equal(bad.found ? 'found' : bad.code, 'bad-input');
    assert.equal(await source.readProcess(4242), null);
    assert.equal(await source.readProcess(-1), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fixture /proc through createAttributor: chain stops at the terminal session leader, agent by name, argv redacted', async () => {
  const root = fakeProcRoot();
  try {
    // createAttributor compares socket uids with the real uid; this fixture's sockets are uid 1000.
    const attributor = createAttributor({ inventory: () => null, source: createLinuxSource({ procRoot: root, uid: 1000, littleEndian: true }) });
    const principal = await attributor.attribute({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 0xc350 });
    assert.equal(principal.attributed, true);
    assert.deepEqual(principal.chain.map((p) => p.pid), [120, 110, 100, 90]);
    assert.equal(principal.agent?.kind, 'claude-code');
    assert.equal(principal.agent?.id, 'kind:claude-code');
    assert.equal(principal.agent?.pid, 100);
    assert.deepEqual(principal.chain[0]?.argv, ['curl', '-H', 'Authorization: <redacted>', 'http://127.0.0.1:8080/']);
    assert.ok(!JSON.stringify(principal).includes('Bearer abc'));

    const none = await attributor.attribute({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 0xc351 });
    assert.equal(none.attributed, false);
    assert.match(none.reason ?? '', /^other-user: .*uid 2000/);
    assert.deepEqual(none.chain, []);
    assert.equal(attributor.stats().unattributed, 1);

    const sockets = await attributor.socketsByLocalPort(0xc350);
    assert.deepEqual(sockets, [{ localAddress: '127.0.0.1', localPort: 0xc350, remoteAddress: '127.0.0.1', remotePort: 8080, state: 'ESTABLISHED', pid: 120 }]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
