import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, clientView, formatEndpoint, isLoopback } from '../../app/attribution/address.ts';
import { decodeProcAddress, findTcpEntry, parseProcNetTcp, parseTcpLine } from '../../app/attribution/linux/procNet.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   2: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 22222 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 33333 1 0000000000000000 20 4 30 10 -1
   4: 0A00A8C0:0016 6400A8C0:C350 01 00000000:00000000 02:0004C9B2 00000000     0        0 44444 2 0000000000000000 20 4 1 10 -1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 55555 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:C000 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 66666 1 0000000000000000 20 4 30 10 -1
   2: 0000000000000000FFFF00000100007F:C001 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 77777 1 0000000000000000 20 4 30 10 -1
   3: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:E000 01 00000000:00000000 00:00000000 00000000  1000        0 88888 1
`;

test('IPv4 hex is host-order: little-endian 0100007F is 127.0.0.1, big-endian 7F000001 is too', () => {
  assert.equal(decodeProcAddress('0100007F', true), '127.0.0.1');
  assert.equal(decodeProcAddress('7F000001', false), '127.0.0.1');
  assert.equal(decodeProcAddress('0A00A8C0', true), '192.168.0.10');
});

test('IPv6 hex is four host-order words; ::1, 2001:db8::1 and IPv4-mapped decode', () => {
  assert.equal(decodeProcAddress('00000000000000000000000001000000', true), canonicalIp('::1'));
  assert.equal(decodeProcAddress('00000000000000000000000000000001', false), canonicalIp('::1'));
  assert.equal(decodeProcAddress('B80D0120000000000000000001000000', true), canonicalIp('2001:db8::1'));
  // IPv4-mapped IPv6 in tcp6 comes out as plain IPv4, so it compares equal to Node's view either way.
  assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F', true), '127.0.0.1');
});

test('malformed address columns and lines are rejected, not thrown', () => {
  for (const bad of ['', '0100007', 'ZZ00007F', '0100007F0', '00'.repeat(15)]) assert.equal(decodeProcAddress(bad, true), null, bad);
  for (const line of ['', 'garbage', '  sl  local_address rem_address', '   0: 0100007F:1F9 00000000:0000 0A 0:0 0:0 0 1000 0 1', '   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 x 0 1']) {
    assert.equal(parseTcpLine(line, true), null, line);
  }
});

test('a whole table parses: ports, states, uid and inode', () => {
  const entries = parseProcNetTcp(TCP, true);
  assert.equal(entries.length, 5);
  assert.deepEqual(entries[0], { localIp: '127.0.0.1', localPort: 8080, remoteIp: '0.0.0.0', remotePort: 0, state: 10, uid: 1000, inode: 11111 });
  assert.deepEqual(entries[4], { localIp: '192.168.0.10', localPort: 22, remoteIp: '192.168.0.100', remotePort: 50000, state: 1, uid: 0, inode: 44444 });
});

test('findTcpEntry picks the client end of a loopback pair and prefers the live socket over TIME_WAIT', () => {
  const entry = findTcpEntry(TCP, { localIp: '127.0.0.1', localPort: 0xd431, remoteIp: '127.0.0.1', remotePort: 8080 }, true);
  assert.equal(entry?.inode, 22222);
  const server = findTcpEntry(TCP, { localIp: '127.0.0.1', localPort: 8080, remoteIp: '127.0.0.1', remotePort: 0xd431 }, true);
  assert.equal(server?.inode, 33333);
  assert.equal(findTcpEntry(TCP, { localIp: '127.0.0.1', localPort: 0xd432, remoteIp: '127.0.0.1', remotePort: 8080 }, true), null);
});

test('findTcpEntry in tcp6: native IPv6 and IPv4-mapped client sockets', () => {
  const v6 = findTcpEntry(TCP6, { localIp: canonicalIp('::1') ?? '', localPort: 0xc000, remoteIp: canonicalIp('::1') ?? '', remotePort: 8080 }, true);
  assert.equal(v6?.inode, 66666);
  const mapped = findTcpEntry(TCP6, { localIp: '127.0.0.1', localPort: 0xc001, remoteIp: '127.0.0.1', remotePort: 8080 }, true);
  assert.equal(mapped?.inode, 77777);
});

test('canonicalIp: forms Node and the OS print compare equal; junk is null', () => {
  const table: [string, string | null][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['::1', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['[::1]', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['fe80::1%eth0', 'fe80:0000:0000:0000:0000:0000:0000:0001'],
    ['2001:DB8::', '2001:0db8:0000:0000:0000:0000:0000:0000'],
    ['localhost', null],
    ['1.2.3', null],
    ['', null],
  ];
  for (const [input, want] of table) assert.equal(canonicalIp(input), want, input);
  assert.equal(isLoopback('::ffff:127.0.0.2'), true);
  assert.equal(isLoopback('10.0.0.1'), false);
  assert.equal(formatEndpoint(canonicalIp('::1') ?? '', 80), '[::1]:80');
  assert.equal(formatEndpoint(canonicalIp('2001:db8:0:0:1::1') ?? '', 80), '[2001:db8::1:0:0:1]:80');
});

test('clientView swaps the proxy view into the client socket view and refuses bad endpoints', () => {
  assert.deepEqual(clientView({ localAddress: '::ffff:127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 50000 }), {
    localIp: '127.0.0.1',
    localPort: 50000,
    remoteIp: '127.0.0.1',
    remotePort: 8080,
  });
  assert.equal(typeof clientView({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: undefined as unknown as string, remotePort: 1 }), 'string');
  assert.equal(typeof clientView({ localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 1 }), 'string');
  assert.equal(typeof clientView({ localAddress: '127.0.0.1', localPort: 80, remoteAddress: '127.0.0.1', remotePort: 70000 }), 'string');
});
