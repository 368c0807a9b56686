/**
 * Enrollment: a device key plus a valid enroll secret gives a device id and a DPoP-bound token;
 * unknown, revoked, expired and used-up secrets are refused (the same way, without issuing
 * nonces); malformed bodies are clear 4xx answers; a retried enrollment keeps the device.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fetchWithDpop } from '../../app/identity/dpop/nonceRetry.ts';
import { createSigner } from '../../app/identity/signer.ts';
import { craftKey } from '../identity/dpopCraft.ts';
import { adminGet, adminSend, backendMatrix, DEVICE_INFO, enrollTestDevice, rawRequest, startTestServer, type TestServer } from './helpers.ts';

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`enrollment (${backend})`, { skip }, () => {
    let server: TestServer;
    const signer = createSigner(craftKey('ES256').privateKey, 'ES256');
    const enroll = async (secret: string, device: unknown = DEVICE_INFO): Promise<{ status: number; body: Record<string, unknown> }> => {
      const { response } = await fetchWithDpop(fetch, `${server.url}/v1/enroll`, { signer, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret, device }) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    test('setup', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
    });

    test('a valid secret enrolls; the token is bound to the key thumbprint; a retry keeps the device', async () => {
      const first = await enroll(server.enrollSecret);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.keyThumbprint, signer.jkt);
      assert.equal(first.body.tokenType, 'DPoP');
      assert.match(String(first.body.accessToken), /^cdt_[A-Za-z0-9_-]{43}$/);
      const again = await enroll(server.enrollSecret);
      assert.equal(again.body.deviceId, first.body.deviceId, 'same key, same device');
      assert.notEqual(again.body.accessToken, first.body.accessToken, 'a fresh token replaces the old one');
      const stored = await server.store.driver.all<{ token_hash: string }>('SELECT token_hash FROM devices');
      assert.equal(stored.length, 1);
      assert.notEqual(stored[0]?.token_hash, again.body.accessToken, 'only a hash is stored');
      const secrets = await adminGet(server, '/admin/v1/enroll-secrets');
      assert.equal((secrets.body?.items as Record<string, unknown>[])[0]?.uses, 2);
    });

    test('unknown, revoked, expired and used-up secrets are refused without issuing a nonce', async () => {
      const nonces = async (): Promise<number> => (await server.store.driver.get<{ n: number }>('SELECT count(*) AS n FROM dpop_nonces'))?.n ?? 0;
      const before = await nonces();
      const unknown = await enroll('ces_not-a-real-secret');
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error, 'enroll_refused');
      assert.equal(await nonces(), before);

      const created = await adminSend(server, 'POST', '/admin/v1/enroll-secrets', { label: 'one-shot', maxUses: 1 });
      assert.equal(created.status, 201, created.text);
      const oneShot = created.body?.secret as string;
      assert.equal((await enrollTestDevice(server, { ...DEVICE_INFO, hostname: 'a' }).then(() => 'ok')), 'ok');
      const other = createSigner(craftKey('ES256').privateKey, 'ES256');
      const use = (secret: string) => fetchWithDpop(fetch, `${server.url}/v1/enroll`, { signer: other, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret, device: DEVICE_INFO }) });
      assert.equal((await use(oneShot)).response.status, 201);
      assert.equal((await use(oneShot)).response.status, 401, 'used up');

      const info = created.body?.info as { id: string };
      const revocable = await server.store.credentials.createEnrollSecret({}, Date.now());
      assert.equal((await adminSend(server, 'POST', `/admin/v1/enroll-secrets/${revocable.info.id}/revoke`)).status, 200);
      assert.equal((await use(revocable.secret)).response.status, 401, 'revoked');
      const expired = await server.store.credentials.createEnrollSecret({ expiresAt: Date.now() - 1000 }, Date.now() - 5000);
      assert.equal((await use(expired.secret)).response.status, 401, 'expired');
      assert.ok(info.id);
    });

    test('malformed enrollment requests are 4xx with a clear error, never a crash', async () => {
      const post = (body: string, type = 'application/json') => rawRequest(`${server.url}/v1/enroll`, 'POST', { 'content-type': type }, body);
      const cases: [string, string, number, string][] = [
        ['not json', '{"secret": ', 400, 'invalid_request'],
        ['wrong type', '"just a string"', 400, 'invalid_request'],
        ['missing device', JSON.stringify({ secret: server.enrollSecret }), 400, 'invalid_request'],
        ['extra field', JSON.stringify({ secret: server.enrollSecret, device: DEVICE_INFO, admin: true }), 400, 'invalid_request'],
        ['huge hostname', JSON.stringify({ secret: server.enrollSecret, device: { ...DEVICE_INFO, hostname: 'x'.repeat(300) } }), 400, 'invalid_request'],
        ['no proof', JSON.stringify({ secret: server.enrollSecret, device: DEVICE_INFO }), 401, 'invalid_request'],
      ];
      for (const [name, body, status, error] of cases) {
        const r = await post(body);
        assert.equal(r.status, status, `${name}: ${r.text}`);
        assert.equal(r.body?.error, error, name);
      }
      const badType = await post('{}', 'text/plain');
      assert.equal(badType.status, 415);
      const big = await post(JSON.stringify({ secret: 'x'.repeat(100_000) }));
      assert.equal(big.status, 413);
      const invalidUtf8 = await rawRequest(`${server.url}/v1/enroll`, 'POST', { 'content-type': 'application/json' }, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      assert.equal(invalidUtf8.status, 400);
      assert.match(String(invalidUtf8.body?.message), /UTF-8/);
      const leaked = await post(`{"secret": "${server.enrollSecret}" oops}`);
      assert.ok(!leaked.text.includes(server.enrollSecret), 'a parse error never echoes the body');
      assert.equal((await rawRequest(`${server.url}/v1/nothing`, 'GET', {})).status, 404);
      assert.equal((await rawRequest(`${server.url}/v1/enroll`, 'GET', {})).status, 405);
      assert.equal((await rawRequest(`${server.url}/healthz`, 'GET', {})).status, 200, 'the server is still up');
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}
