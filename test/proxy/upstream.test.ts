import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Decision, EgressRequest } from '../../app/api/enforcement.ts';
import { ALLOW, deny, openTunnel, startHarness, viaProxy } from './helpers/proxyHarness.ts';
import { startHttpOrigin, startHttpsOrigin } from './helpers/origins.ts';
import { createTestCa } from './helpers/testCa.ts';

const originCa = createTestCa('Origin Test CA');
const cordonCa = createTestCa('Cordon Test Root');

test('chaining: plain HTTP and tunnels go through the corporate upstream proxy, with its credentials, unless NO_PROXY says otherwise', async () => {
  const corporate = await startHarness();
  const origin = await startHttpOrigin();
  const internal = await startHttpOrigin();
  const tlsOrigin = await startHttpsOrigin(originCa);
  const upstreamUrl = `http://proxyuser:s%40cret@127.0.0.1:${corporate.proxy.port}`;
  const front = await startHarness({ upstream: { httpProxy: upstreamUrl, httpsProxy: upstreamUrl, noProxy: `.corp.example, 127.0.0.1:${internal.port}` } });
  try {
    const plain = await viaProxy(front.proxy, `${origin.url}/chained`);
    assert.equal(plain.status, 200);
    const seenUpstream = corporate.decided.find((d) => d.kind === 'http');
    assert.equal(seenUpstream?.path, '/chained');
    assert.equal((seenUpstream?.headers as Record<string, string>)['proxy-authorization'], `Basic ${Buffer.from('proxyuser:s@cret').toString('base64')}`);
    // The origin never sees the upstream credentials.
    const echoed = JSON.parse(plain.body.toString()) as { headers: Record<string, string> };
    assert.equal(echoed.headers['proxy-authorization'], undefined);

    const tunnel = await openTunnel(front.proxy, `localhost:${tlsOrigin.port}`);
    assert.equal(tunnel.status, 200);
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: 'localhost', port: tlsOrigin.port, path: '/through', createConnection: () => tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: originCa.caPem }) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal((JSON.parse(text) as { url: string }).url, '/through');
    assert.ok(corporate.decided.some((d) => d.kind === 'connect' && d.host === 'localhost' && d.port === tlsOrigin.port));

    // NO_PROXY: straight to the origin, the upstream never hears of it.
    const before = corporate.decided.length;
    const bypass = await viaProxy(front.proxy, `${internal.url}/direct`);
    assert.equal(bypass.status, 200);
    assert.equal(internal.seen[0]?.url, '/direct');
    assert.equal(corporate.decided.length, before);
  } finally {
    await front.close();
    await corporate.close();
    await origin.close();
    await internal.close();
    await tlsOrigin.close();
  }
});

test('chaining: an upstream that refuses the tunnel gives a 502 naming it; inspected HTTPS also goes through the upstream', async () => {
  const corporate = await startHarness({ decide: (req: EgressRequest): Decision => (req.host === 'refused.example' ? deny() : ALLOW) });
  const tlsOrigin = await startHttpsOrigin(originCa);
  const front = await startHarness({
    upstream: { httpsProxy: corporate.proxy.url },
    tls: cordonCa,
    originCa: [originCa.caPem],
    decide: (req) => (req.kind === 'connect' && req.port === tlsOrigin.port ? { ...ALLOW, inspect: true } : ALLOW),
  });
  try {
    const refused = await openTunnel(front.proxy, 'refused.example:443');
    assert.equal(refused.status, 502);
    assert.match(refused.head, new RegExp(`upstream proxy 127\\.0\\.0\\.1:${corporate.proxy.port} refused the tunnel \\(403\\)`));

    const tunnel = await openTunnel(front.proxy, `localhost:${tlsOrigin.port}`);
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: 'localhost', port: tlsOrigin.port, path: '/inspected', createConnection: () => tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: cordonCa.caPem }) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal((JSON.parse(text) as { url: string }).url, '/inspected');
    assert.ok(front.decided.some((d) => d.kind === 'https' && d.path === '/inspected'));
    assert.ok(corporate.decided.some((d) => d.kind === 'connect' && d.port === tlsOrigin.port), 'the inspected origin connection went through the upstream');
  } finally {
    await front.close();
    await corporate.close();
    await tlsOrigin.close();
  }
});
