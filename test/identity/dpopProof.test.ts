// Cordon's DPoP proofs, cross-checked by an independent implementation (jose), and jose's
// proofs checked by Cordon's verifier.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddedJWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, decodeProtectedHeader } from 'jose';
import { accessTokenHash, createDpopProof, proofHtu } from '../../app/identity/dpop/proof.ts';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { memorySigner } from './helpers.ts';

const NOW = 1_760_000_000_000;

for (const alg of ['ES256', 'EdDSA'] as const) {
  test(`RFC 9449 §4.2: a ${alg} proof verifies with jose (EmbeddedJWK) and carries the required claims`, async () => {
    const signer = memorySigner(alg);
    const proof = createDpopProof(signer, { htm: 'POST', htu: 'https://as.example.com/token?x=1#frag', now: NOW });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg], currentDate: new Date(NOW) });
    assert.equal(protectedHeader.typ, 'dpop+jwt');
    assert.equal(protectedHeader.alg, alg);
    assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'jwk', 'typ']);
    assert.equal(protectedHeader.jwk && 'd' in protectedHeader.jwk, false, 'public jwk only');
    assert.equal(await calculateJwkThumbprint(protectedHeader.jwk!), signer.jkt, 'jose computes the same RFC 7638 thumbprint');
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, 'https://as.example.com/token', 'no query or fragment');
    assert.equal(payload.iat, Math.floor(NOW / 1000));
    assert.equal(payload.ath, undefined);
    assert.equal(payload.nonce, undefined);
    assert.equal(typeof payload.jti, 'string');
    assert.ok(Buffer.from(payload.jti as string, 'base64url').length * 8 >= 96, 'jti has at least 96 random bits');
  });
}

test('RFC 9449 §4.2: ath and nonce are added when given, and jose agrees on ath', async () => {
  const signer = memorySigner();
  const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
  const proof = createDpopProof(signer, { htm: 'GET', htu: 'https://rs.example.org/r', accessToken: token, nonce: 'eyJ7S_zG.eyJH0-Z.HX4w-7v', now: NOW });
  const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(NOW) });
  assert.equal(payload.ath, 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo', 'RFC 9449 Figure 14');
  assert.equal(payload.ath, accessTokenHash(token));
  assert.equal(payload.nonce, 'eyJ7S_zG.eyJH0-Z.HX4w-7v');
});

test('RFC 9449 §4.2: every proof has a fresh jti', () => {
  const signer = memorySigner();
  const seen = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const proof = createDpopProof(signer, { htm: 'GET', htu: 'https://x.example/', now: NOW });
    const payload = JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString()) as { jti: string };
    assert.ok(!seen.has(payload.jti));
    seen.add(payload.jti);
  }
});

test('RFC 9449 §4.2: htu drops userinfo, query and fragment; bad inputs are refused', () => {
  assert.equal(proofHtu('https://user:pw@Example.COM:443/a/b?q=1#f'), 'https://example.com/a/b');
  assert.equal(proofHtu('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/');
  assert.equal(proofHtu('https://[::1]:8443/x'), 'https://[::1]:8443/x');
  const signer = memorySigner();
  assert.throws(() => createDpopProof(signer, { htm: 'GET', htu: 'ftp://x.example/' }), /http or https/);
  assert.throws(() => createDpopProof(signer, { htm: 'GET', htu: '/relative' }), /absolute/);
  assert.throws(() => createDpopProof(signer, { htm: 'GE T', htu: 'https://x.example/' }), /method/);
  assert.throws(() => createDpopProof(signer, { htm: 'GET', htu: 'https://x.example/', nonce: 'a"b' }), /nonce/);
  assert.throws(() => createDpopProof(signer, { htm: 'GET', htu: 'https://x.example/', accessToken: 'a b' }), /token68/);
});

test('Cordon proofs pass Cordon’s verifier; jose-made proofs do too (both directions)', async () => {
  const verifier = createDpopVerifier({ clock: () => NOW });
  const signer = memorySigner();
  const mine = createDpopProof(signer, { htm: 'POST', htu: 'https://as.example.com/token', now: NOW });
  const r1 = await verifier.verify({ method: 'POST', url: 'https://as.example.com/token', headers: { dpop: mine } });
  assert.equal(r1.ok, true);
  if (r1.ok) assert.equal(r1.jkt, signer.jkt);

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const theirs = await new SignJWT({ htm: 'POST', htu: 'https://as.example.com/token', jti: 'jose-made-jti-0001' })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .setIssuedAt(Math.floor(NOW / 1000))
    .sign(privateKey);
  const r2 = await verifier.verify({ method: 'POST', url: 'https://as.example.com/token', headers: { dpop: theirs } });
  assert.equal(r2.ok, true, r2.ok ? '' : r2.description);
  if (r2.ok) assert.equal(r2.jkt, await calculateJwkThumbprint(jwk));
  assert.equal(decodeProtectedHeader(theirs).typ, 'dpop+jwt');
});
