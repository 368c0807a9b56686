import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipText, normalizeRequestHost, parseCidr, parseHostPattern, parseIp } from '../../app/policy/net.ts';

test('policy IPs: strict dotted quads and RFC 4291 IPv6; IPv4-mapped folds to IPv4', () => {
  const cases: readonly (readonly [string, string | null])[] = [
    ['10.0.0.1', '10.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['256.0.0.1', null],
    ['1.2.3', null],
    ['01.2.3.4', null],
    ['1.2.3.4.5', null],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['fe80::1:2:3:4:5:6:7', null],
    ['1::2::3', null],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:0a01:0203', '10.1.2.3'],
    ['12345::', null],
    ['', null],
  ];
  for (const [text, expected] of cases) {
    const bytes = parseIp(text);
    assert.equal(bytes ? ipText(bytes) : null, expected, text);
  }
});

test('CIDRs: prefix bounds, host bits, and a suggestion for the intended network', () => {
  const ok = parseCidr('10.0.0.0/8');
  assert.ok(typeof ok !== 'string' && ok.prefix === 8 && ok.bytes.length === 4);
  const mapped = parseCidr('::ffff:10.0.0.0/104');
  assert.ok(typeof mapped !== 'string' && mapped.prefix === 8 && mapped.bytes.length === 4, 'IPv4-mapped networks match IPv4');
  assert.ok(typeof parseCidr('0.0.0.0/0') !== 'string');
  assert.ok(typeof parseCidr('fd00::/8') !== 'string');
  assert.match(parseCidr('10.0.0.1/8') as string, /did you mean 10\.0\.0\.0\/8/);
  assert.match(parseCidr('10.0.0.0/33') as string, /0-32/);
  assert.match(parseCidr('fd00::/129') as string, /0-128/);
  assert.match(parseCidr('10.0.0.0') as string, /\/prefix/);
  assert.match(parseCidr('10.0.0.0/x') as string, /prefix length/);
  assert.match(parseCidr('fd00::1/8') as string, /did you mean fd00::\/8/);
});

test('host patterns: exact, *.suffix, **; IDN to punycode; IPs and stray stars refused', () => {
  assert.deepEqual(parseHostPattern('**'), { kind: 'any' });
  assert.deepEqual(parseHostPattern('API.Example.COM.'), { kind: 'exact', name: 'api.example.com' });
  assert.deepEqual(parseHostPattern('*.example.com'), { kind: 'suffix', name: 'example.com' });
  assert.deepEqual(parseHostPattern('bücher.example'), { kind: 'exact', name: 'xn--bcher-kva.example' });
  for (const bad of ['10.0.0.1', '[::1]', '::1', 'a*.example.com', '*.*.example.com', 'a..b', '-a.example', 'example.123', 'x'.repeat(64) + '.com']) {
    assert.equal(typeof parseHostPattern(bad), 'string', bad);
  }
});

test('request hosts are normalized the way clients resolve them', () => {
  const cases: readonly (readonly [string, string | null])[] = [
    ['Example.COM', 'name:example.com'],
    ['example.com.', 'name:example.com'],
    ['bücher.example', 'name:xn--bcher-kva.example'],
    ['%65xample.com', 'name:example.com'],
    ['10.0.0.1', 'ip:10.0.0.1'],
    ['2852039166', 'ip:169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', 'ip:169.254.169.254'],
    ['0251.0376.0251.0376', 'ip:169.254.169.254'],
    ['169.254.43518', 'ip:169.254.169.254'],
    ['[::1]', 'ip:::1'],
    ['::ffff:169.254.169.254', 'ip:169.254.169.254'],
    ['fe80::1%eth0', 'ip:fe80::1'],
    ['', null],
    ['a b.com', null],
    ['exa[mple.com', null],
    ['x'.repeat(2000), null],
  ];
  for (const [host, expected] of cases) {
    const n = normalizeRequestHost(host);
    assert.equal(n ? (n.kind === 'name' ? `name:${n.name}` : `ip:${n.text}`) : null, expected, host);
  }
});
