import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Decision, Principal } from '../../app/api/enforcement.ts';
import { createMemoryNonceStore } from '../../app/identity/dpop/nonces.ts';
import { createDpopProof } from '../../app/identity/dpop/proof.ts';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { createSigner, generatePrivateKey } from '../../app/identity/signer.ts';
import type { DpopAuthorizeRequest } from '../../app/proxy/types.ts';
import { ALLOW, openTunnel, startHarness, TEST_PRINCIPAL, viaProxy } from './helpers/proxyHarness.ts';
import { startHttpOrigin, startHttpsOrigin } from './helpers/origins.ts';
import { createTestCa } from './helpers/testCa.ts';

const cordonCa = createTestCa('Cordon Test Root');
const originCa = createTestCa('Origin Test CA');
const TOKEN = 'at-for-agent-test.abc123';

/** A resource server that demands DPoP with a nonce, checked by the identity module's verifier. */
function dpopResourceServer(scheme: 'http' | 'https', expectedJkt: string) {
  const verifier = createDpopVerifier({ nonceStore: createMemoryNonceStore(), requireNonce: true });
  const accepted: { authorization: string | undefined; body: string; nonce: string | undefined }[] = [];
  let challenges = 0;
  const route = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!req.url?.startsWith('/api')) return false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void verifier.verify({ method: req.method ?? '', url: `${scheme}://${req.headers.host}${req.url}`, headers: req.headersDistinct, expectedJkt }).then((result) => {
        if (!result.ok) {
          challenges++;
          res.writeHead(result.status, { 'WWW-Authenticate': result.wwwAuthenticate, ...(result.dpopNonce ? { 'DPoP-Nonce': result.dpopNonce } : {}) });
          res.end(result.description);
          return;
        }
        accepted.push({ authorization: req.headers.authorization, body: Buffer.concat(chunks).toString(), nonce: result.claims.nonce });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: true, jkt: result.jkt }));
      });
    });
    return true;
  };
  return { route, accepted, challenges: () => challenges };
}

test('DPoP injection: the proxy swaps the client credential for a DPoP token and proof, and retries once on use_dpop_nonce', async () => {
  const signer = createSigner(generatePrivateKey('ES256'), 'ES256');
  const server = dpopResourceServer('https', signer.jkt);
  const origin = await startHttpsOrigin(originCa, server.route);
  const calls: { principal: Principal; request: DpopAuthorizeRequest }[] = [];
  const decide = (req: { kind: string }): Decision => (req.kind === 'connect' ? { ...ALLOW, inspect: true } : { ...ALLOW, dpop: { credential: 'cred:test-api' } });
  const h = await startHarness({
    tls: cordonCa,
    originCa: [originCa.caPem],
    decide,
    dpop: {
      async authorize(principal, request) {
        calls.push({ principal, request });
        return { authorization: `DPoP ${TOKEN}`, dpop: createDpopProof(signer, { htm: request.method, htu: request.url, accessToken: TOKEN, ...(request.nonce ? { nonce: request.nonce } : {}) }) };
      },
    },
  });
  try {
    const tunnel = await openTunnel(h.proxy, `localhost:${origin.port}`);
    const tls: TLSSocket = tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca: cordonCa.caPem });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection(): Duplex }).createConnection = () => tls;
    const post = (body: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({ host: 'localhost', port: origin.port, method: 'POST', path: '/api/items?x=1', agent, headers: { Authorization: 'Bearer client-held-secret', 'Content-Type': 'text/plain' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const first = await post('first body');
    assert.equal(first.status, 200, first.body);
    assert.equal((JSON.parse(first.body) as { jkt: string }).jkt, signer.jkt);
    assert.equal(server.challenges(), 1, 'one use_dpop_nonce challenge');
    assert.equal(calls.length, 2, 'signed once, then once more with the nonce');
    assert.equal(calls[0]?.request.nonce, undefined);
    assert.ok(calls[1]?.request.nonce);
    assert.equal(calls[1]?.request.url, `https://localhost:${origin.port}/api/items?x=1`);
    assert.equal(calls[1]?.request.method, 'POST');
    assert.equal(calls[1]?.request.credential, 'cred:test-api');
    assert.equal(calls[1]?.principal.agent?.id, TEST_PRINCIPAL.agent?.id);
    assert.deepEqual(server.accepted[0], { authorization: `DPoP ${TOKEN}`, body: 'first body', nonce: calls[1]?.request.nonce });

    // The nonce is remembered: the next request needs no retry.
    const second = await post('second body');
    assert.equal(second.status, 200, second.body);
    assert.equal(server.challenges(), 1);
    assert.equal(calls.length, 3);
    assert.equal(server.accepted[1]?.body, 'second body');
    agent.destroy();
    tls.destroy();

    const event = await h.waitForEvent((e) => e.request.kind === 'https' && e.dpop !== undefined);
    assert.deepEqual(event.dpop, { credential: 'cred:test-api', nonceRetry: true });
    assert.equal(event.status, 200);
    assert.ok(!JSON.stringify(h.events).includes(TOKEN) && !JSON.stringify(h.events).includes('client-held-secret'));
  } finally {
    await h.close();
    await origin.close();
  }
});

test('DPoP on plain HTTP, bodies over the buffer cap get 413, and a failing signer gets 502', async () => {
  const signer = createSigner(generatePrivateKey('EdDSA'), 'EdDSA');
  const server = dpopResourceServer('http', signer.jkt);
  const origin = await startHttpOrigin(server.route);
  let failSigning = false;
  const h = await startHarness({
    limits: { dpopBodyMaxBytes: 1024 },
    decide: () => ({ ...ALLOW, dpop: { credential: 'cred:plain' } }),
    dpop: {
      async authorize(_principal, request) {
        if (failSigning) throw new Error('keychain locked');
        return { authorization: `DPoP ${TOKEN}`, dpop: createDpopProof(signer, { htm: request.method, htu: request.url, accessToken: TOKEN, ...(request.nonce ? { nonce: request.nonce } : {}) }) };
      },
    },
  });
  try {
    const ok = await viaProxy(h.proxy, `${origin.url}/api/plain`, { method: 'PUT', body: 'small' });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(server.accepted[0]?.body, 'small');
    const big = await viaProxy(h.proxy, `${origin.url}/api/plain`, { method: 'PUT', body: Buffer.alloc(4096, 0x61) });
    assert.equal(big.status, 413);
    failSigning = true;
    const broken = await viaProxy(h.proxy, `${origin.url}/api/plain`);
    assert.equal(broken.status, 502);
    assert.match(broken.body.toString(), /could not sign a DPoP proof/);
    assert.doesNotMatch(broken.body.toString(), /keychain locked/);
  } finally {
    await h.close();
    await origin.close();
  }
});
