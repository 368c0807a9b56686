import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp } from '../../app/attribution/address.ts';
import { parseLsofFields, parseLsofSocketName, parseLstart, parsePsArgs, parsePsTable } from '../../app/attribution/darwin.ts';
import { parseCimDate, parseNetstat, parseWin32Processes, splitCommandLine } from '../../app/attribution/win32.ts';

// `lsof -nP -w -iTCP@127.0.0.1:50123 -FpcuRfnT` on macOS: the client (curl) and the proxy's accepted end.
const LSOF = ['p7788', 'R621', 'ccurl', 'u501', 'f5', 'n127.0.0.1:50123->127.0.0.1:8080', 'TST=ESTABLISHED', 'TQR=0', 'TQS=0', 'p5000', 'R1', 'cnode', 'u501', 'f23', 'n127.0.0.1:8080->127.0.0.1:50123', 'TST=ESTABLISHED', ''].join('\n');

const PS = `    1     0     0 root             Ss   ??       Mon Nov  3 09:12:01 2025     /sbin/launchd
  501     1   501 alice            S    ??       Mon Nov  3 09:13:22 2025     /System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal
  620   501     0 root             Ss   ttys000  Mon Nov  3 09:13:30 2025     login
  621   620   501 alice            S    ttys000  Mon Nov  3 09:13:30 2025     -zsh
 7788   621   501 alice            S+   ttys000  Tue Nov 11 17:02:09 2025     /usr/bin/curl
 7790   621   501 alice            S+   ttys000  Tue Nov 11 17:02:10 2025     /Applications/Visual Studio Code.app/Contents/MacOS/Electron
garbage line
`;

test('lsof -F: process and file sets, ppid, uid and TCP state', () => {
  const procs = parseLsofFields(LSOF);
  assert.equal(procs.length, 2);
  assert.deepEqual(procs[0], { pid: 7788, command: 'curl', uid: 501, ppid: 621, files: [{ fd: '5', name: '127.0.0.1:50123->127.0.0.1:8080', tcpState: 'ESTABLISHED' }] });
  assert.equal(procs[1]?.files[0]?.name, '127.0.0.1:8080->127.0.0.1:50123');
  // Names without an 'f' field (lsof -d cwd -Fn) still attach to their process.
  assert.deepEqual(parseLsofFields('p42\nn/Users/alice/proj\n')[0]?.files, [{ fd: '', name: '/Users/alice/proj', tcpState: null }]);
  assert.deepEqual(parseLsofFields('junk\nfno-process\npnot-a-pid\n'), []);
});

test('lsof socket names: IPv4, bracketed IPv6, listening sockets', () => {
  assert.deepEqual(parseLsofSocketName('127.0.0.1:50123->127.0.0.1:8080'), { localIp: '127.0.0.1', localPort: 50123, remoteIp: '127.0.0.1', remotePort: 8080 });
  assert.deepEqual(parseLsofSocketName('[::1]:50124->[::1]:8080'), { localIp: canonicalIp('::1'), localPort: 50124, remoteIp: canonicalIp('::1'), remotePort: 8080 });
  assert.deepEqual(parseLsofSocketName('*:8080'), null);
  assert.deepEqual(parseLsofSocketName('127.0.0.1:8080'), { localIp: '127.0.0.1', localPort: 8080, remoteIp: null, remotePort: null });
  assert.equal(parseLsofSocketName('nonsense'), null);
});

test('ps table: fixed columns, lstart in local time, comm with spaces last', () => {
  const rows = parsePsTable(PS);
  assert.equal(rows.length, 6);
  assert.deepEqual(rows[4], { pid: 7788, ppid: 621, uid: 501, user: 'alice', stat: 'S+', tty: 'ttys000', startTimeMs: new Date(2025, 10, 11, 17, 2, 9).getTime(), comm: '/usr/bin/curl' });
  assert.equal(rows[5]?.comm, '/Applications/Visual Studio Code.app/Contents/MacOS/Electron');
  assert.equal(rows[2]?.stat, 'Ss');
  assert.equal(parseLstart('Mon Foo  3 09:12:01 2025'), null);
  assert.deepEqual([...parsePsArgs(' 7788 curl -s http://127.0.0.1:8080/\n  621 -zsh\n')], [[7788, ['curl', '-s', 'http://127.0.0.1:8080/']], [621, ['-zsh']]]);
});

const NETSTAT = `
Active Connections

  Proto  Local Address          Foreign Address        State           PID
  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1044
  TCP    127.0.0.1:8080         0.0.0.0:0              LISTENING       5000
  TCP    127.0.0.1:8080         127.0.0.1:50123        ESTABLISHED     5000
  TCP    127.0.0.1:50123        127.0.0.1:8080         ESTABLISHED     7788
  TCP    127.0.0.1:50200        127.0.0.1:8080         TIME_WAIT       0
  TCP    [::]:135               [::]:0                 LISTENING       1044
  TCP    [::1]:50124            [::1]:8080             ESTABLISHED     7790
  TCP    [fe80::1c2d:3e4f:5a6b:7c8d%12]:50125  [fe80::1%12]:443  HERGESTELLT  7791
  UDP    0.0.0.0:5353           *:*                                    2000
  TCP    broken
`.replaceAll('\n', '\r\n');

test('netstat -ano: IPv4 and IPv6 TCP rows with pids; localized states; UDP and junk skipped', () => {
  const rows = parseNetstat(NETSTAT);
  assert.equal(rows.length, 8);
  assert.deepEqual(rows[3], { localIp: '127.0.0.1', localPort: 50123, remoteIp: '127.0.0.1', remotePort: 8080, state: 'ESTABLISHED', pid: 7788 });
  assert.deepEqual(rows[6], { localIp: canonicalIp('::1'), localPort: 50124, remoteIp: canonicalIp('::1'), remotePort: 8080, state: 'ESTABLISHED', pid: 7790 });
  assert.equal(rows[7]?.localIp, canonicalIp('fe80::1c2d:3e4f:5a6b:7c8d'));
  assert.equal(rows[7]?.state, 'HERGESTELLT');
  assert.equal(rows[4]?.pid, 0);
});

const CIM_JSON = String.raw`[{"ProcessId":4,"ParentProcessId":0,"ExecutablePath":null,"CommandLine":null,"CreationDate":"\/Date(1762160000000)\/"},{"ProcessId":7788,"ParentProcessId":7000,"ExecutablePath":"C:\\Windows\\System32\\curl.exe","CommandLine":"curl.exe -H \"Authorization: Bearer x\" http://127.0.0.1:8080/","CreationDate":"2025-11-11T17:02:09.5+01:00"},{"ProcessId":"bad"}]`;

test('Get-CimInstance Win32_Process JSON: PowerShell 5.1 and 7 date forms, nulls, bad rows skipped', () => {
  const rows = parseWin32Processes(CIM_JSON);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], { pid: 4, ppid: 0, exe: null, commandLine: null, startTimeMs: 1762160000000 });
  assert.equal(rows[1]?.exe, 'C:\\Windows\\System32\\curl.exe');
  assert.equal(rows[1]?.startTimeMs, Date.parse('2025-11-11T16:02:09.500Z'));
  // A single process is an object, not an array; a BOM and junk do not throw.
  assert.equal(parseWin32Processes('\uFEFF{"ProcessId":9,"ParentProcessId":1}').length, 1);
  assert.deepEqual(parseWin32Processes('not json'), []);
  assert.equal(parseCimDate('20251111170209.500000+060'), Date.parse('2025-11-11T16:02:09.500Z'));
  assert.equal(parseCimDate(42), null);
});

test('Windows command lines split like CommandLineToArgvW', () => {
  const table: [string, string[]][] = [
    ['curl.exe -s http://x/', ['curl.exe', '-s', 'http://x/']],
    ['"C:\\Program Files\\nodejs\\node.exe" "C:\\a b\\cli.js" --x', ['C:\\Program Files\\nodejs\\node.exe', 'C:\\a b\\cli.js', '--x']],
    ['a\\\\"b c" d', ['a\\b c', 'd']],
    ['a\\"b c', ['a"b', 'c']],
    ['"say ""hi""" x', ['say "hi"', 'x']],
    ['  ', []],
    ['x ""', ['x', '']],
  ];
  for (const [line, want] of table) assert.deepEqual(splitCommandLine(line), want, line);
});
