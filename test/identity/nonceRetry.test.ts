// fetchWithDpop against real local HTTP servers: one retry with the server's DPoP-Nonce, never more.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fetchWithDpop } from '../../app/identity/dpop/nonceRetry.ts';
import { createMemoryNonceStore } from '../../app/identity/dpop/nonces.ts';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { memorySigner } from './helpers.ts';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => void Promise.resolve(handler(req, res)).catch(() => res.writeHead(500).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('RFC 9449 §9: a resource server’s 401 use_dpop_nonce is retried once with the nonce', async () => {
  const verifier = createDpopVerifier({ nonceStore: createMemoryNonceStore(), requireNonce: true });
  const signer = memorySigner();
  let requests = 0;
  const { server, base } = await serve(async (req, res) => {
    requests++;
    const result = await verifier.verify({ method: req.method ?? '', url: `http://${req.headers.host}${req.url}`, headers: req.headersDistinct, expectedJkt: signer.jkt });
    if (result.ok) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello ${result.claims.nonce}`);
    res.writeHead(result.status, { 'www-authenticate': result.wwwAuthenticate, ...(result.dpopNonce ? { 'dpop-nonce': result.dpopNonce } : {}) }).end();
  });
  try {
    const { response, nonce, retried } = await fetchWithDpop(fetch, `${base}/data?x=1`, { signer, accessToken: 'at-123' });
    assert.equal(response.status, 200);
    assert.equal(retried, true);
    assert.equal(requests, 2);
    assert.equal(await response.text(), `hello ${nonce}`);
    // The caller reuses the nonce: no retry needed now.
    const again = await fetchWithDpop(fetch, `${base}/data`, { signer, accessToken: 'at-123', ...(nonce ? { nonce } : {}) });
    assert.equal(again.response.status, 200);
    assert.equal(again.retried, false);
    assert.equal(requests, 3);
  } finally {
    server.close();
  }
});

test('RFC 9449 §8: an authorization server’s 400 {"error":"use_dpop_nonce"} is retried once, never twice', async () => {
  let requests = 0;
  const { server, base } = await serve((_req, res) => {
    requests++;
    // Always demands a new nonce: the helper must give up after one retry.
    res.writeHead(400, { 'content-type': 'application/json', 'dpop-nonce': `n${requests}` }).end(JSON.stringify({ error: 'use_dpop_nonce' }));
  });
  try {
    const { response, nonce, retried } = await fetchWithDpop(fetch, `${base}/token`, { signer: memorySigner(), method: 'POST', body: 'grant_type=client_credentials' });
    assert.equal(response.status, 400);
    assert.equal(retried, true);
    assert.equal(nonce, 'n2');
    assert.equal(requests, 2);
  } finally {
    server.close();
  }
});

test('fetchWithDpop: other errors and a nonce without use_dpop_nonce are not retried', async () => {
  let requests = 0;
  const { server, base } = await serve((_req, res) => {
    requests++;
    res.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token"', 'dpop-nonce': 'fresh' }).end();
  });
  try {
    const { response, nonce, retried } = await fetchWithDpop(fetch, `${base}/x`, { signer: memorySigner() });
    assert.equal(response.status, 401);
    assert.equal(retried, false);
    assert.equal(nonce, 'fresh', 'the new nonce is still handed back for the next request');
    assert.equal(requests, 1);
  } finally {
    server.close();
  }
});
