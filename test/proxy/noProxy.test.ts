import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNoProxy } from '../../app/proxy/noProxy.ts';
import { compileUpstream, parseProxyUrl, upstreamFromEnv } from '../../app/proxy/upstream.ts';

test('NO_PROXY: hosts, suffixes, wildcard, ports, IPs and CIDRs', () => {
  const m = compileNoProxy('example.com, .internal.test,*.corp.example ,10.1.2.3 api.local:8443 192.168.0.0/16,fd00::/8 [::1]:9000, bad/99');
  const table: [string, number, boolean][] = [
    ['example.com', 443, true],
    ['www.example.com', 80, true],
    ['notexample.com', 443, false],
    ['example.com.', 443, true],
    ['EXAMPLE.COM', 443, true],
    ['a.internal.test', 443, true],
    ['internal.test', 443, true],
    ['x.corp.example', 443, true],
    ['corp.example', 443, true],
    ['10.1.2.3', 80, true],
    ['10.1.2.4', 80, false],
    ['api.local', 8443, true],
    ['api.local', 443, false],
    ['192.168.5.6', 443, true],
    ['192.169.0.1', 443, false],
    ['fd12::1', 443, true],
    ['::1', 9000, true],
    ['::1', 9001, false],
    ['other.org', 443, false],
  ];
  for (const [host, port, expected] of table) assert.equal(m.bypass(host, port), expected, `${host}:${port}`);
  assert.equal(compileNoProxy('*').bypass('anything.example', 1), true);
  assert.equal(compileNoProxy('').empty, true);
  assert.equal(compileNoProxy(undefined).bypass('example.com', 443), false);
  // Hostname entries never match IP targets and the reverse (no DNS lookups).
  assert.equal(compileNoProxy('localhost').bypass('127.0.0.1', 80), false);
});

test('upstream proxies: env names, credentials, NO_PROXY routing, and a loop back to ourselves is dropped', () => {
  const env = upstreamFromEnv({ HTTPS_PROXY: 'http://user:p%40ss@corp-proxy:3128', http_proxy: 'corp-proxy:8080', NO_PROXY: '.corp.example' });
  assert.deepEqual(env, { httpProxy: 'corp-proxy:8080', httpsProxy: 'http://user:p%40ss@corp-proxy:3128', noProxy: '.corp.example' });
  const up = parseProxyUrl('http://user:p%40ss@corp-proxy:3128');
  assert.equal(up.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  assert.equal(up.label, 'corp-proxy:3128');
  assert.ok(!up.label.includes('user'));
  const routes = compileUpstream(env, 9999);
  assert.equal(routes.forTunnel('api.example.com', 443)?.port, 3128);
  assert.equal(routes.forHttp('api.example.com', 80)?.port, 8080);
  assert.equal(routes.forTunnel('git.corp.example', 443), null);
  const loop = compileUpstream({ httpsProxy: 'http://127.0.0.1:9999' }, 9999);
  assert.equal(loop.forTunnel('example.com', 443), null);
  assert.deepEqual(loop.dropped, ['127.0.0.1:9999']);
  assert.throws(() => parseProxyUrl('socks5://corp:1080'), { code: 'ERR_BAD_REQUEST' });
  assert.throws(() => parseProxyUrl('http://'), { code: 'ERR_BAD_REQUEST' });
});
