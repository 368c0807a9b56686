import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackAddress, isProxyLoop, parseAbsoluteTarget, parseConnectTarget, pathWithoutQuery } from '../../app/proxy/target.ts';
import { endToEndHeaders } from '../../app/proxy/headers.ts';

test('CONNECT targets: valid authorities parse to one canonical host and port', () => {
  const cases: [string, string, number][] = [
    ['example.com:443', 'example.com', 443],
    ['EXAMPLE.com.:8443', 'example.com', 8443],
    ['127.0.0.1:1', '127.0.0.1', 1],
    ['[::1]:443', '::1', 443],
    ['[0:0:0:0:0:0:0:1]:443', '::1', 443],
    // Numeric IPv4 spellings are normalized so IP rules cannot be sidestepped.
    ['0x7f.1:80', '127.0.0.1', 80],
    ['2130706433:80', '127.0.0.1', 80],
    ['bücher.example:443', 'xn--bcher-kva.example', 443],
    ['my_host.internal:65535', 'my_host.internal', 65535],
  ];
  for (const [input, host, port] of cases) {
    const r = parseConnectTarget(input);
    assert.ok(r.ok, `${input}: ${r.ok ? '' : r.reason}`);
    assert.deepEqual([r.target.host, r.target.port], [host, port], input);
  }
});

test('CONNECT targets: missing port, port 0 or > 65535, userinfo, empty host and junk are refused', () => {
  const bad = [
    '',
    'example.com',
    'example.com:',
    'example.com:0',
    'example.com:65536',
    'example.com:99999999',
    'example.com:-1',
    'example.com:44a',
    ':443',
    'user@example.com:443',
    'user:pw@example.com:443',
    '::1:443',
    '[::1]',
    '[::1]443',
    '[nope]:443',
    'http://example.com:443',
    'exa mple.com:443',
    'example.com:443/path',
    'a..b:443',
    `${'a'.repeat(64)}.com:443`,
  ];
  for (const input of bad) assert.equal(parseConnectTarget(input).ok, false, JSON.stringify(input));
});

test('absolute-form targets: http and ws parse; https, other schemes, userinfo and origin-form are refused', () => {
  const ok: [string, string, number, string][] = [
    ['http://example.com/a?b=1', 'example.com', 80, '/a?b=1'],
    ['http://example.com', 'example.com', 80, '/'],
    ['http://example.com?x', 'example.com', 80, '/?x'],
    ['http://Example.COM:8080/p#frag', 'example.com', 8080, '/p'],
    ['http://[::1]:3000/x', '::1', 3000, '/x'],
    ['ws://127.0.0.1:9/socket', '127.0.0.1', 9, '/socket'],
  ];
  for (const [input, host, port, path] of ok) {
    const r = parseAbsoluteTarget(input);
    assert.ok(r.ok, `${input}: ${r.ok ? '' : r.reason}`);
    assert.deepEqual([r.target.host, r.target.port, r.target.path], [host, port, path], input);
  }
  for (const input of ['/path', 'https://example.com/', 'ftp://example.com/', 'http://user:pw@example.com/', 'http://u@example.com/', 'http://:80/', 'http://example.com:0/', 'http://example.com:70000/', 'http://exa%20mple.com/', '']) {
    assert.equal(parseAbsoluteTarget(input).ok, false, JSON.stringify(input));
  }
});

test('loop detection and loopback checks', () => {
  assert.equal(isProxyLoop('127.0.0.1', 8080, 8080), true);
  assert.equal(isProxyLoop('127.3.2.1', 8080, 8080), true);
  assert.equal(isProxyLoop('localhost', 8080, 8080), true);
  assert.equal(isProxyLoop('::1', 8080, 8080), true);
  assert.equal(isProxyLoop('0.0.0.0', 8080, 8080), true);
  assert.equal(isProxyLoop('127.0.0.1', 8081, 8080), false);
  assert.equal(isProxyLoop('example.com', 8080, 8080), false);
  const mapped = parseConnectTarget('[::ffff:127.0.0.1]:8080');
  assert.ok(mapped.ok);
  assert.equal(isProxyLoop(mapped.target.host, 8080, 8080), true);
  assert.equal(isLoopbackAddress('::ffff:127.0.0.1'), true);
  assert.equal(isLoopbackAddress('10.0.0.1'), false);
  assert.equal(isLoopbackAddress(undefined), false);
  assert.equal(pathWithoutQuery('/a?token=secret'), '/a');
});

test('hop-by-hop headers and the names Connection lists are dropped; end-to-end ones keep order and case', () => {
  const raw = [
    'Host', 'example.com',
    'Connection', 'keep-alive, X-Private',
    'X-Private', 'secret',
    'Proxy-Authorization', 'Basic abc',
    'Proxy-Connection', 'keep-alive',
    'Keep-Alive', 'timeout=5',
    'TE', 'trailers',
    'Trailer', 'X-T',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'h2c',
    'Accept', 'text/plain',
    'X-Custom', 'a',
  ];
  assert.deepEqual(endToEndHeaders(raw), ['Host', 'example.com', 'Accept', 'text/plain', 'X-Custom', 'a']);
  assert.deepEqual(endToEndHeaders(raw, new Set(['host'])), ['Accept', 'text/plain', 'X-Custom', 'a']);
});
