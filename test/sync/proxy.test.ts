/**
 * The sync client goes through the corporate proxy from the environment: https targets through a
 * CONNECT tunnel (TLS end to end, proxy credentials sent, never echoed), http targets in absolute
 * form, NO_PROXY honoured. A tiny local proxy counts what passes through it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHttpFetch, proxyUrl } from '../../app/sync/httpFetch.ts';
import { silentLogger } from '../../app/util/log.ts';
import { createFleetServer, type FleetServer } from '../../server/app.ts';
import { openFleetStore, type FleetStore } from '../../server/store/fleetStore.ts';
import { KEYRING_SKIP } from '../identity/helpers.ts';
import { freshLocation } from '../server/helpers.ts';
import { syncHarness } from './helpers.ts';

type Proxy = { url: string; server: Server; seen: string[]; close(): Promise<void> };

/** A forwarding proxy: CONNECT tunnels and absolute-form requests; optional Basic credentials. */
async function startProxy(credentials?: string): Promise<Proxy> {
  const seen: string[] = [];
  const authorized = (header: string | undefined): boolean => !credentials || header === `Basic ${Buffer.from(credentials).toString('base64')}`;
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (!authorized(req.headers['proxy-authorization'])) return void res.writeHead(407).end();
    const { 'proxy-authorization': _credentials, ...headers } = req.headers;
    const upstream = request(req.url ?? '', { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  const sockets = new Set<Socket>();
  server.on('connect', (req, client: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    if (!authorized(req.headers['proxy-authorization'])) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const [host, port] = (req.url ?? '').split(':');
    const target = connect(Number(port), host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      target.pipe(client);
      client.pipe(target);
    });
    sockets.add(target).add(client);
    target.on('error', () => client.destroy());
    client.on('error', () => target.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    seen,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('proxy selection follows the curl conventions (scheme, NO_PROXY, ports, wildcards)', () => {
  const env = { HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'http://plain:8080', NO_PROXY: 'internal.example.com, .corp, 10.0.0.1:8443' };
  const pick = (url: string, e: NodeJS.ProcessEnv = env) => proxyUrl(new URL(url), e)?.host ?? null;
  assert.equal(pick('https://fleet.example.com'), 'proxy:3128');
  assert.equal(pick('http://fleet.example.com'), 'plain:8080');
  assert.equal(pick('https://internal.example.com'), null);
  assert.equal(pick('https://a.internal.example.com'), null);
  assert.equal(pick('https://x.corp'), null);
  assert.equal(pick('https://10.0.0.1:8443'), null);
  assert.equal(pick('https://10.0.0.1'), 'proxy:3128');
  assert.equal(pick('https://anything', { HTTPS_PROXY: 'proxy:1', NO_PROXY: '*' }), null);
  assert.equal(pick('https://anything', { HTTPS_PROXY: 'proxy:1' }), 'proxy:1');
  assert.throws(() => pick('https://x', { HTTPS_PROXY: 'socks5://p:1' }), /not supported/);
});

describe('through a proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-proxy-'));
  let store: FleetStore;
  let plain: FleetServer;
  let plainUrl: string;
  let tls: FleetServer | null = null;
  let tlsUrl = '';
  let cert = '';
  const openssl = spawnSync('openssl', ['version']).status === 0;

  before(async () => {
    const { location } = await freshLocation('sqlite');
    store = await openFleetStore(location);
    plain = createFleetServer({ store, log: silentLogger });
    plainUrl = await plain.listen(0);
    if (openssl) {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      tls = createFleetServer({ store, log: silentLogger, tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
      tlsUrl = await tls.listen(0);
    }
  });
  after(async () => {
    await plain?.close();
    await tls?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('http targets go through HTTP_PROXY in absolute form; NO_PROXY bypasses it', async () => {
    const proxy = await startProxy();
    try {
      const via = createHttpFetch({ env: { HTTP_PROXY: proxy.url } });
      const r = await via(`${plainUrl}/v1/time`, { method: 'GET' });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { protocolVersion: number }).protocolVersion, 1);
      assert.deepEqual(proxy.seen, [`GET ${plainUrl}/v1/time`]);
      via.close();
      const direct = createHttpFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
      assert.equal((await direct(`${plainUrl}/v1/time`, { method: 'GET' })).status, 200);
      assert.equal(proxy.seen.length, 1, 'NO_PROXY: not through the proxy');
      direct.close();
    } finally {
      await proxy.close();
    }
  });

  test('the sync client itself uses the proxy settings it is given (enroll, policy, events)', { skip: KEYRING_SKIP }, async () => {
    const proxy = await startProxy();
    const { secret } = await store.credentials.createEnrollSecret({}, Date.now());
    const h = await syncHarness(plainUrl, { env: { HTTP_PROXY: proxy.url } });
    try {
      h.settings.enrollSecret = secret;
      h.audit.append('settings.changed', 'through the proxy', {});
      const result = await h.client.syncNow();
      assert.equal(result.ok, true, result.error);
      assert.equal(result.sent, 1);
      const paths = proxy.seen.map((line) => new URL(line.split(' ')[1] ?? '').pathname);
      for (const path of ['/v1/enroll', '/v1/time', '/v1/policy', '/v1/events']) assert.ok(paths.includes(path), `${path} went through the proxy: ${paths.join(', ')}`);
      assert.equal(h.client.status().proxy, proxy.url);
    } finally {
      await h.cleanup();
      await proxy.close();
    }
  });

  test('https targets go through a CONNECT tunnel with proxy credentials; TLS is verified end to end', { skip: openssl ? false : 'openssl is not installed (needed to make a test certificate)' }, async () => {
    const proxy = await startProxy('corp:s3cret-pass');
    try {
      const port = new URL(tlsUrl).port;
      const good = createHttpFetch({ env: { HTTPS_PROXY: proxy.url.replace('http://', 'http://corp:s3cret-pass@') }, ca: cert });
      const r = await good(`${tlsUrl}/v1/time`, { method: 'GET' });
      assert.equal(r.status, 200);
      assert.deepEqual(proxy.seen, [`CONNECT 127.0.0.1:${port}`]);
      assert.equal(good.proxyFor(tlsUrl), proxy.url, 'status shows the proxy without credentials');
      good.close();

      const wrong = createHttpFetch({ env: { HTTPS_PROXY: proxy.url.replace('http://', 'http://corp:wrong-pass@') }, ca: cert });
      await assert.rejects(wrong(`${tlsUrl}/v1/time`, { method: 'GET' }), (error: Error) => {
        assert.match(error.message, /407/);
        assert.ok(!error.message.includes('wrong-pass'), 'proxy credentials never appear in errors');
        return true;
      });
      wrong.close();

      const untrusted = createHttpFetch({ env: { HTTPS_PROXY: proxy.url.replace('http://', 'http://corp:s3cret-pass@') } });
      await assert.rejects(untrusted(`${tlsUrl}/v1/time`, { method: 'GET' }), /certificate/i, 'no trust, no connection: the proxy cannot read the traffic');
      untrusted.close();
    } finally {
      await proxy.close();
    }
  });
});
