// Interop with a real authorization server: panva's oidc-provider (DPoP on, nonces required)
// issues a DPoP-bound token by client_credentials to a Cordon agent key from the keychain; its
// introspection shows cnf.jkt equal to Cordon's thumbprint, and a resource server built on
// Cordon's verifier accepts the token with a proof from the same key and refuses another key.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { agentIdentity } from '../../app/identity/agentIdentity.ts';
import { createAgentKeyManager } from '../../app/identity/agentKeys.ts';
import { fetchWithDpop } from '../../app/identity/dpop/nonceRetry.ts';
import { createMemoryNonceStore } from '../../app/identity/dpop/nonces.ts';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { KEYRING_SKIP, memorySigner, tempHome, testKeyStore } from './helpers.ts';

/** The slice of oidc-provider's API this test uses (the package ships no type definitions). */
type ProviderCtor = new (issuer: string, config: Record<string, unknown>) => { callback(): RequestListener };

const AGENT_SECRET = randomBytes(24).toString('base64url');
const RS_SECRET = randomBytes(24).toString('base64url');
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function startProvider(): Promise<{ issuer: string; close(): void }> {
  const specifier = 'oidc-provider';
  const { default: Provider } = (await import(specifier)) as { default: ProviderCtor };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'cordon-agent', client_secret: AGENT_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], id_token_signed_response_alg: 'ES256' },
      { client_id: 'resource-server', client_secret: RS_SECRET, grant_types: [], response_types: [], redirect_uris: [], id_token_signed_response_alg: 'ES256' },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'test', alg: 'ES256', use: 'sig' }] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    },
  });
  server.on('request', provider.callback());
  return { issuer, close: () => server.close() };
}

test('oidc-provider issues a DPoP-bound token to a Cordon agent key; cnf.jkt is Cordon’s RFC 7638 thumbprint', { skip: KEYRING_SKIP }, async () => {
  const home = await tempHome();
  const keyStore = testKeyStore();
  const as = await startProvider();
  const manager = createAgentKeyManager({ keyStore, dataDir: home.dataDir, user: 'alice' });
  try {
    const signer = await manager.signerFor(agentIdentity('claude-code', { executable: '/usr/bin/claude', user: 'alice' }));

    // Token request: the AS requires a nonce, so the helper's one retry is exercised for real.
    const token = await fetchWithDpop(fetch, `${as.issuer}/token`, {
      signer,
      method: 'POST',
      headers: { authorization: basic('cordon-agent', AGENT_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(token.retried, true, 'first attempt answered use_dpop_nonce');
    assert.equal(token.response.status, 200);
    const issued = (await token.response.json()) as { access_token: string; token_type: string };
    assert.equal(issued.token_type, 'DPoP');

    const intro = await fetch(`${as.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: basic('resource-server', RS_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued.access_token }).toString(),
    });
    const info = (await intro.json()) as { active: boolean; token_type?: string; cnf?: { jkt?: string } };
    assert.equal(info.active, true);
    assert.equal(info.token_type, 'DPoP');
    assert.equal(info.cnf?.jkt, signer.jkt, 'the AS bound the token to the key Cordon holds');

    // A resource server on Cordon's verifier: the introspected cnf.jkt is the expected binding.
    const verifier = createDpopVerifier({ nonceStore: createMemoryNonceStore() });
    const rs = createServer((req: IncomingMessage, res) => {
      void verifier.verify({ method: req.method ?? '', url: `http://${req.headers.host}${req.url}`, headers: req.headersDistinct, expectedJkt: info.cnf?.jkt ?? '' }).then((r) => {
        if (r.ok) res.writeHead(200).end('granted');
        else res.writeHead(r.status, { 'www-authenticate': r.wwwAuthenticate }).end();
      });
    });
    await new Promise<void>((resolve) => rs.listen(0, '127.0.0.1', resolve));
    const rsUrl = `http://127.0.0.1:${(rs.address() as AddressInfo).port}/repo/contents`;
    try {
      const ok = await fetchWithDpop(fetch, rsUrl, { signer, accessToken: issued.access_token });
      assert.equal(ok.response.status, 200);
      assert.equal(await ok.response.text(), 'granted');
      const thief = await fetchWithDpop(fetch, rsUrl, { signer: memorySigner(), accessToken: issued.access_token });
      assert.equal(thief.response.status, 401, 'a stolen token with another key is refused');
      assert.match(thief.response.headers.get('www-authenticate') ?? '', /invalid_token/);
      const bearer = await fetch(rsUrl, { headers: { authorization: `Bearer ${issued.access_token}` } });
      assert.equal(bearer.status, 401, 'the bound token is refused as a bearer token');
    } finally {
      rs.close();
    }
  } finally {
    as.close();
    await manager.flush(); // the throttled lastUsed write must land before the directory goes
    await keyStore.purge();
    await home.cleanup();
  }
});
