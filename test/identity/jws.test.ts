// JWS signature encoding: Cordon converts ECDSA DER <-> r||s itself (for speed); node:crypto's own
// ieee-p1363 encoding is the reference. Bounded loops cover leading-zero and high-bit integers.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { derToP1363, keyMismatch, p1363ToDer, signJws, verifyJws } from '../../app/identity/jws.ts';

// ES256 gets the most rounds: a leading zero octet in r or s (1 in 256 per integer) must occur.
for (const [alg, curve, hash, size, rounds] of [
  ['ES256', 'P-256', 'sha256', 32, 600],
  ['ES384', 'P-384', 'sha384', 48, 60],
  ['ES512', 'P-521', 'sha512', 66, 30],
] as const) {
  test(`RFC 7518 §3.4: ${alg} signatures are r||s of ${size * 2} bytes, interchangeable with node's ieee-p1363`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    for (let i = 0; i < rounds; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign(hash, data, privateKey);
      const raw = derToP1363(der, size);
      assert.equal(raw.length, size * 2);
      assert.ok(verify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), 'node accepts our r||s');
      assert.deepEqual(p1363ToDer(raw), der, 'round trip back to the same DER');
      const ours = signJws(alg, privateKey, data);
      assert.ok(verifyJws(alg, publicKey, data, ours));
      const theirs = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.ok(verifyJws(alg, publicKey, data, theirs), 'we accept node’s r||s');
    }
  });
}

test('verifyJws: wrong length, flipped bit and wrong key are false, never a throw', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const data = Buffer.from('x');
  const sig = signJws('ES256', privateKey, data);
  assert.equal(verifyJws('ES256', publicKey, data, sig.subarray(1)), false);
  const flipped = Buffer.from(sig);
  flipped[10] = (flipped[10] ?? 0) ^ 1;
  assert.equal(verifyJws('ES256', publicKey, data, flipped), false);
  assert.equal(verifyJws('ES256', other, data, sig), false);
  assert.equal(verifyJws('ES256', publicKey, data, Buffer.alloc(64)), false);
  assert.equal(verifyJws('ES256', publicKey, data, Buffer.alloc(64, 0xff)), false);
});

test('keyMismatch: key type, curve and RSA size must fit the algorithm', () => {
  assert.equal(keyMismatch('ES256', { kty: 'EC', crv: 'P-256' }), null);
  assert.match(keyMismatch('ES256', { kty: 'EC', crv: 'P-384' }) ?? '', /curve/);
  assert.match(keyMismatch('ES256', { kty: 'RSA' }) ?? '', /EC key/);
  assert.equal(keyMismatch('EdDSA', { kty: 'OKP', crv: 'Ed25519' }), null);
  assert.match(keyMismatch('Ed25519', { kty: 'OKP', crv: 'Ed448' }) ?? '', /curve/);
  const n2048 = Buffer.alloc(256, 0xff).toString('base64url');
  const n1024 = Buffer.alloc(128, 0xff).toString('base64url');
  assert.equal(keyMismatch('PS256', { kty: 'RSA', n: n2048, e: 'AQAB' }), null);
  assert.match(keyMismatch('RS256', { kty: 'RSA', n: n1024, e: 'AQAB' }) ?? '', /2048/);
});

test('DER <-> r||s: short integers are left-padded, high-bit integers get a 0x00 in DER', () => {
  const r = Buffer.alloc(32);
  r[31] = 0x05; // r = 5: one DER octet
  const s = Buffer.alloc(32, 0xff); // high bit set: DER needs a leading 0x00
  const raw = Buffer.concat([r, s]);
  const der = p1363ToDer(raw);
  assert.deepEqual(der.subarray(0, 5), Buffer.from([0x30, 3 + 2 + 33, 0x02, 0x01, 0x05]));
  assert.deepEqual(der.subarray(5, 8), Buffer.from([0x02, 0x21, 0x00]));
  assert.deepEqual(derToP1363(der, 32), raw);
  assert.throws(() => derToP1363(Buffer.from([0x31, 0x00]), 32), /DER/);
});
