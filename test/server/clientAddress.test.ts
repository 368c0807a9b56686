/**
 * Which address a request comes from, behind a reverse proxy or not: X-Forwarded-For is believed
 * only from configured proxies, right to left, and never when it is malformed. The sign-in limit
 * per address then separates the clients behind one proxy, and a direct client cannot escape it
 * by sending the header.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { clientAddress, parseTrustedProxies } from '../../server/http/clientAddress.ts';
import { runServerCli } from '../../server/main.ts';
import { MAX_FAILURES_PER_ADDRESS } from '../../server/store/accounts.ts';
import { freshLocation, rawRequest, startTestServer, type TestServer } from './helpers.ts';

function request(peer: string | undefined, forwardedFor?: string | string[]): IncomingMessage {
  const headersDistinct: Record<string, string[]> = {};
  if (forwardedFor !== undefined) headersDistinct['x-forwarded-for'] = Array.isArray(forwardedFor) ? forwardedFor : [forwardedFor];
  return { socket: { remoteAddress: peer }, headersDistinct } as unknown as IncomingMessage;
}

test('parseTrustedProxies: addresses and CIDR ranges, IPv4 and IPv6; a bad entry is named', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', ' 192.0.2.7 ', 'fd00::/8', '']);
  assert.equal(trusted.size, 3);
  assert.equal(trusted.has('10.200.1.1'), true);
  assert.equal(trusted.has('::ffff:10.1.2.3'), true, 'IPv4-mapped IPv6 is the IPv4 address');
  assert.equal(trusted.has('192.0.2.7'), true);
  assert.equal(trusted.has('192.0.2.8'), false);
  assert.equal(trusted.has('fd12::1'), true);
  assert.equal(trusted.has('2001:db8::1'), false);
  assert.equal(trusted.has('not an ip'), false);
  for (const bad of ['example.com', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/x', '1.2.3']) {
    assert.throws(() => parseTrustedProxies([bad]), new RegExp(bad.replace(/[.*/]/g, '\\$&')));
  }
});

test('clientAddress: the peer unless it is a trusted proxy; then the right-most untrusted forwarded hop', () => {
  const none = parseTrustedProxies([]);
  const proxies = parseTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
  assert.equal(clientAddress(request('203.0.113.9', '198.51.100.1'), none), '203.0.113.9', 'no proxies configured: the header is ignored');
  assert.equal(clientAddress(request('203.0.113.9', '198.51.100.1'), proxies), '203.0.113.9', 'an untrusted peer cannot pick its address');
  assert.equal(clientAddress(request('::ffff:203.0.113.9'), none), '203.0.113.9');
  assert.equal(clientAddress(request('127.0.0.1'), proxies), '127.0.0.1', 'a trusted peer without the header is itself');
  assert.equal(clientAddress(request('127.0.0.1', '198.51.100.1'), proxies), '198.51.100.1');
  assert.equal(clientAddress(request('127.0.0.1', '1.1.1.1, 198.51.100.1, 10.2.3.4'), proxies), '198.51.100.1', 'a client-sent left part is not believed');
  assert.equal(clientAddress(request('127.0.0.1', ['1.1.1.1', '198.51.100.1, 10.2.3.4']), proxies), '198.51.100.1', 'several header lines are one list');
  assert.equal(clientAddress(request('127.0.0.1', '10.9.9.9, 10.2.3.4'), proxies), '127.0.0.1', 'only proxies: the peer');
  assert.equal(clientAddress(request('127.0.0.1', '198.51.100.1, garbage'), proxies), '127.0.0.1', 'a malformed hop: the peer, not a guess');
  assert.equal(clientAddress(request('127.0.0.1', '2001:db8::5'), proxies), '2001:db8::5');
  assert.equal(clientAddress(request(undefined), proxies), 'unknown');
});

test('behind a trusted proxy the sign-in limit is per client: one client locked out, another still signs in', { timeout: 120_000 }, async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const server: TestServer = await startTestServer(location, { cleanup, trustedProxies: parseTrustedProxies(['127.0.0.1']) });
  try {
    await server.store.accounts.createUser({ username: 'alice', password: 'correct horse battery staple', role: 'admin' }, Date.now());
    const signIn = (username: string, password: string, forwardedFor?: string): Promise<{ status: number }> =>
      rawRequest(`${server.url}/console/api/session`, 'POST', { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) }, JSON.stringify({ username, password }));
    // Spread over many usernames so that only the per-address limit is reached.
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) assert.equal((await signIn(`nobody${i % 10}`, 'wrong', '198.51.100.1')).status, 401);
    assert.equal((await signIn('alice', 'correct horse battery staple', '198.51.100.1')).status, 429, 'that client is limited');
    assert.equal((await signIn('alice', 'correct horse battery staple', '198.51.100.2')).status, 200, 'another client behind the same proxy is not');
  } finally {
    await server.close();
  }
});

test('npm run server -- serve refuses a bad --trusted-proxies entry (or CORDON_FLEET_TRUSTED_PROXIES) before it listens', async () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; err: string }> => {
    let err = '';
    const sink = (append: (s: string) => void): Writable => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
    const code = await runServerCli(argv, { stdout: sink(() => undefined), stderr: sink((s) => (err += s)), env });
    return { code, err };
  };
  const flag = await run(['serve', '--trusted-proxies', '10.0.0.0/8,proxy.internal']);
  assert.equal(flag.code, 2);
  assert.match(flag.err, /--trusted-proxies: 'proxy.internal' is not an IP address or CIDR range/);
  const env = await run(['serve'], { CORDON_FLEET_TRUSTED_PROXIES: '10.0.0.0/99' });
  assert.equal(env.code, 2);
  assert.match(env.err, /bad prefix length/);
});
