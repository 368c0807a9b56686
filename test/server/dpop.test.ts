/**
 * Every device call is a DPoP-bound request: hostile variants of an otherwise valid call to
 * GET /v1/policy must be refused with the right status and error, on SQLite and PostgreSQL
 * (replay cache and nonces live in the database).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { accessTokenHash } from '../../app/identity/dpop/proof.ts';
import { b64, craft, craftKey } from '../identity/dpopCraft.ts';
import { backendMatrix, enrollTestDevice, rawRequest, startTestServer, type RawResponse, type TestDevice, type TestServer } from './helpers.ts';

const PATH = '/v1/policy';

function refused(r: RawResponse, status: number, error: string, description?: RegExp): void {
  assert.equal(r.status, status, `expected ${status} ${error}, got ${r.status} ${r.text}`);
  assert.equal(r.body?.error, error, r.text);
  if (description) assert.match(String(r.body?.message), description);
  if (status === 401) assert.match(String(r.headers['www-authenticate']), /^DPoP /);
}

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`DPoP on device calls (${backend})`, { skip }, () => {
    let server: TestServer;
    let device: TestDevice;
    const url = (): string => `${server.url}${PATH}`;
    const send = (headers: Record<string, string | string[]>, method = 'GET', path = PATH): Promise<RawResponse> => rawRequest(`${server.url}${path}`, method, headers);
    const auth = (): string => `DPoP ${device.token}`;

    test('setup: enroll a device and make one valid call', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup });
      device = await enrollTestDevice(server);
      assert.match(device.deviceId, /^dev_/);
      assert.ok(device.nonce(), 'enrollment went through the nonce challenge');
      const ok = await send({ authorization: auth(), dpop: device.proof('GET', url()) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body?.policy, null);
    });

    test('a replayed proof is refused (jti in the shared replay cache)', async () => {
      const proof = device.proof('GET', url());
      assert.equal((await send({ authorization: auth(), dpop: proof })).status, 200);
      refused(await send({ authorization: auth(), dpop: proof }), 401, 'invalid_dpop_proof', /replay/);
    });

    test('wrong htu, wrong htm and a query in htu are refused', async () => {
      refused(await send({ authorization: auth(), dpop: device.proof('GET', `${server.url}/v1/time`) }), 401, 'invalid_dpop_proof', /htu/);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url().replace('127.0.0.1', 'localhost')) }), 401, 'invalid_dpop_proof', /htu/);
      refused(await send({ authorization: auth(), dpop: device.proof('POST', url()) }), 401, 'invalid_dpop_proof', /htm/);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', `${url()}?x=1`) }), 401, 'invalid_dpop_proof', /query/);
    });

    test('stale and future iat are refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url(), { iat: now - 3600 }) }), 401, 'invalid_dpop_proof', /too old/);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url(), { iat: now + 3600 }) }), 401, 'invalid_dpop_proof', /future/);
    });

    test('missing or wrong ath is refused', async () => {
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url(), { ath: undefined }) }), 401, 'invalid_dpop_proof', /ath is required/);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url(), { ath: accessTokenHash('cdt_other') }) }), 401, 'invalid_dpop_proof', /ath does not match/);
    });

    test('a proof from a key that does not match cnf.jkt is refused', async () => {
      const other = craftKey('ES256');
      const proof = craft(other, { typ: 'dpop+jwt', alg: 'ES256', jwk: other.jwk }, { jti: 'k1', htm: 'GET', htu: url(), iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(device.token) });
      refused(await send({ authorization: auth(), dpop: proof }), 401, 'invalid_token', /binding/);
    });

    test('the token presented with the Bearer scheme (downgrade) is refused', async () => {
      refused(await send({ authorization: `Bearer ${device.token}`, dpop: device.proof('GET', url()) }), 401, 'invalid_token', /Bearer/);
      refused(await send({ authorization: `Bearer ${device.token}` }), 401, 'invalid_token', /Bearer/);
    });

    test('alg none, HS256 and a private key in the jwk are refused', async () => {
      const jwk = device.key.jwk;
      const claims = { jti: 'a1', htm: 'GET', htu: url(), iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(device.token), nonce: device.nonce() };
      refused(await send({ authorization: auth(), dpop: craft(device.key, { typ: 'dpop+jwt', alg: 'none', jwk }, claims) }), 401, 'invalid_dpop_proof', /alg none/);
      const hs = `${b64({ typ: 'dpop+jwt', alg: 'HS256', jwk })}.${b64(claims)}`;
      const mac = createHmac('sha256', Buffer.from(device.token)).update(hs).digest('base64url');
      refused(await send({ authorization: auth(), dpop: `${hs}.${mac}` }), 401, 'invalid_dpop_proof', /HS256/);
      const privateJwk = device.key.privateKey.export({ format: 'jwk' });
      assert.ok(privateJwk.d);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url(), {}, { jwk: privateJwk }) }), 401, 'invalid_dpop_proof', /private key/);
    });

    test('two DPoP headers, or two Authorization headers, are refused', async () => {
      refused(await send({ authorization: auth(), dpop: [device.proof('GET', url()), device.proof('GET', url())] }), 401, 'invalid_dpop_proof', /more than one DPoP/);
      refused(await send({ authorization: [auth(), auth()], dpop: device.proof('GET', url()) }), 400, 'invalid_request', /more than one Authorization/);
    });

    test('nonces: none, unknown or forged nonces get use_dpop_nonce with a fresh DPoP-Nonce', async () => {
      for (const nonce of [undefined, 'never-issued']) {
        const r = await send({ authorization: auth(), dpop: device.proof('GET', url(), { nonce }) });
        refused(r, 401, 'use_dpop_nonce');
        assert.ok(typeof r.headers['dpop-nonce'] === 'string' && r.headers['dpop-nonce'].length > 20);
        device.setNonce(r.headers['dpop-nonce'] as string);
      }
      assert.equal((await send({ authorization: auth(), dpop: device.proof('GET', url()) })).status, 200);
    });

    test('no credentials, an unknown token, or a token without a proof are refused', async () => {
      refused(await send({}), 401, 'invalid_request');
      refused(await send({ authorization: 'DPoP cdt_unknowntoken', dpop: device.proof('GET', url()) }), 401, 'invalid_token', /unknown/);
      refused(await send({ authorization: auth() }), 401, 'invalid_dpop_proof', /missing DPoP proof/);
      refused(await send({ authorization: 'Basic dXNlcjpwYXNz', dpop: device.proof('GET', url()) }), 400, 'invalid_request');
    });

    test('a revoked device is refused; its data stays for the console', async () => {
      const revoke = await rawRequest(`${server.url}/admin/v1/devices/${device.deviceId}/revoke`, 'POST', { authorization: `Bearer ${server.adminToken}` });
      assert.equal(revoke.status, 200, revoke.text);
      refused(await send({ authorization: auth(), dpop: device.proof('GET', url()) }), 401, 'device_revoked', /revoked/);
      const listed = await rawRequest(`${server.url}/admin/v1/devices?status=revoked`, 'GET', { authorization: `Bearer ${server.adminToken}` });
      assert.equal((listed.body?.items as unknown[]).length, 1);
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}
