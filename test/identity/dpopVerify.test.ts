// The DPoP verifier, one RFC 9449 §4.3 step (or §7 rule) per test, with hand-crafted proofs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createDpopVerifier, type DpopVerification, type DpopVerifierOptions } from '../../app/identity/dpop/verify.ts';
import { createMemoryNonceStore } from '../../app/identity/dpop/nonces.ts';
import { jwkThumbprint } from '../../app/identity/jwk.ts';
import { ath, craft, craftKey, type CraftKey } from './dpopCraft.ts';

const NOW = 1_750_000_000_000;
const URL_ = 'https://api.example.com/v1/things';
const clock = (): number => NOW;

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { jti: randomBytes(16).toString('base64url'), htm: 'POST', htu: URL_, iat: NOW / 1000, ...extra };
}

function header(key: CraftKey, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...extra };
}

async function check(proof: string | string[] | null, opts: DpopVerifierOptions = {}, req: Partial<{ method: string; url: string; auth: string | string[]; expectedJkt: string }> = {}): Promise<DpopVerification> {
  const verifier = createDpopVerifier({ clock, ...opts });
  const headers: Record<string, string | string[]> = {};
  if (proof !== null) headers.DPoP = proof;
  if (req.auth !== undefined) headers.Authorization = req.auth;
  return verifier.verify({ method: req.method ?? 'POST', url: req.url ?? URL_, headers, ...(req.expectedJkt ? { expectedJkt: req.expectedJkt } : {}) });
}

function refused(result: DpopVerification, error: string, pattern?: RegExp): void {
  assert.equal(result.ok, false, 'expected a refusal');
  if (result.ok) return;
  assert.equal(result.error, error, result.description);
  if (pattern) assert.match(result.description, pattern);
  assert.match(result.wwwAuthenticate, /^DPoP /);
}

const es = craftKey('ES256');

test('RFC 9449 §4.3: a well-formed proof verifies and yields the key thumbprint', async () => {
  const result = await check(craft(es, header(es), claims()));
  assert.equal(result.ok, true);
  if (result.ok) assert.equal(result.jkt, jwkThumbprint(es.jwk));
});

test('RFC 9449 §4.3 step 1: more than one DPoP header is refused', async () => {
  const a = craft(es, header(es), claims());
  const b = craft(es, header(es), claims());
  refused(await check([a, b]), 'invalid_dpop_proof', /more than one/);
  refused(await check(`${a}, ${b}`), 'invalid_dpop_proof', /more than one/);
  const verifier = createDpopVerifier({ clock });
  refused(await verifier.verify({ method: 'POST', url: URL_, headers: ['DPoP', a, 'dpop', b] }), 'invalid_dpop_proof', /more than one/);
  const h = new Headers();
  h.append('DPoP', a);
  h.append('DPoP', b);
  refused(await verifier.verify({ method: 'POST', url: URL_, headers: h }), 'invalid_dpop_proof', /more than one/);
  const single = new Headers({ dpop: a });
  assert.equal((await verifier.verify({ method: 'POST', url: URL_, headers: single })).ok, true);
});

test('RFC 9449 §4.3 step 2: the DPoP header must be one well-formed JWT', async () => {
  const good = craft(es, header(es), claims());
  const [h, p, s] = good.split('.');
  for (const bad of ['', 'garbage', `${h}.${p}`, `${h}.${p}.${s}.x`, `${h}.${p}.`, `${h}=.${p}.${s}`, `${h}.${p}.${s}.a.b`, `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`, `${Buffer.from('{not json').toString('base64url')}.${p}.${s}`]) {
    refused(await check(bad), 'invalid_dpop_proof');
  }
  refused(await check(`${h}.${p}.${s}${'A'.repeat(9000)}`), 'invalid_dpop_proof', /too large/);
});

test('RFC 9449 §4.3 step 3: all required claims (jti, htm, htu, iat) must be present', async () => {
  for (const missing of ['jti', 'htm', 'htu', 'iat']) {
    const c = claims();
    delete c[missing];
    refused(await check(craft(es, header(es), c)), 'invalid_dpop_proof', new RegExp(missing));
  }
  refused(await check(craft(es, header(es), claims({ iat: String(NOW / 1000) }))), 'invalid_dpop_proof', /iat/);
  refused(await check(craft(es, header(es), claims({ jti: '' }))), 'invalid_dpop_proof', /jti/);
  refused(await check(craft(es, header(es), 'x' as unknown as Record<string, unknown>)), 'invalid_dpop_proof', /payload/);
});

test('RFC 9449 §4.3 step 4: typ must be dpop+jwt', async () => {
  refused(await check(craft(es, header(es, { typ: 'JWT' }), claims())), 'invalid_dpop_proof', /typ/);
  refused(await check(craft(es, header(es, { typ: undefined }), claims())), 'invalid_dpop_proof', /typ/);
  refused(await check(craft(es, header(es, { typ: 'at+jwt' }), claims())), 'invalid_dpop_proof', /typ/);
  // RFC 7515 §4.1.9: a media type, compared case-insensitively, "application/" optional.
  assert.equal((await check(craft(es, header(es, { typ: 'application/DPoP+JWT' }), claims()))).ok, true);
});

test('RFC 9449 §4.3 step 5: alg must be an allowed asymmetric algorithm (none and HS256 refused)', async () => {
  refused(await check(craft(es, header(es, { alg: 'none' }), claims())), 'invalid_dpop_proof', /none/);
  // An HMAC "signed" with the public key bytes: the classic alg-confusion attack.
  const hs = craft(es, header(es, { alg: 'HS256' }), claims(), Buffer.from(JSON.stringify(es.jwk)));
  refused(await check(hs), 'invalid_dpop_proof', /HS256/);
  refused(await check(craft(es, header(es, { alg: 'ES257' }), claims())), 'invalid_dpop_proof', /not accepted/);
  const es384 = craftKey('ES384');
  refused(await check(craft(es384, header(es384), claims())), 'invalid_dpop_proof', /not accepted/);
  assert.equal((await check(craft(es384, header(es384), claims()), { algorithms: ['ES384'] })).ok, true);
  // The key must fit the alg (a P-384 key cannot claim ES256), and RSA keys need 2048 bits.
  refused(await check(craft(es384, header(es384, { alg: 'ES256' }), claims())), 'invalid_dpop_proof', /curve/);
  const weak = craftKey('RS256-1024');
  refused(await check(craft(weak, header(weak), claims()), { algorithms: ['RS256'] }), 'invalid_dpop_proof', /2048/);
  const ps = craftKey('PS256');
  assert.equal((await check(craft(ps, header(ps), claims()), { algorithms: ['PS256'] })).ok, true);
  const ed = craftKey('EdDSA');
  assert.equal((await check(craft(ed, header(ed), claims()))).ok, true);
  assert.throws(() => createDpopVerifier({ algorithms: ['HS256' as 'ES256'] }), /asymmetric/);
  assert.throws(() => createDpopVerifier({ algorithms: ['none' as 'ES256'] }), /asymmetric/);
  const r = await check(craft(es, header(es, { alg: 'none' }), claims()));
  if (!r.ok) assert.match(r.wwwAuthenticate, /algs="ES256 EdDSA Ed25519"/);
});

test('RFC 9449 §4.3 step 6: the signature must verify with the jwk in the header', async () => {
  const good = craft(es, header(es), claims());
  const [h, , s] = good.split('.');
  const otherPayload = Buffer.from(JSON.stringify(claims({ htm: 'POST' }))).toString('base64url');
  refused(await check(`${h}.${otherPayload}.${s}`), 'invalid_dpop_proof', /signature/);
  const other = craftKey('ES256');
  const signedByOther = craft(other, header(es), claims());
  refused(await check(signedByOther), 'invalid_dpop_proof', /signature/);
  refused(await check(`${good.slice(0, -4)}AAAA`), 'invalid_dpop_proof', /signature/);
  refused(await check(`${good}AAAA`), 'invalid_dpop_proof', /signature/);
});

test('RFC 9449 §4.3 step 7: the jwk must not contain a private key', async () => {
  const d = (es.privateKey.export({ format: 'jwk' }) as Record<string, string>).d;
  refused(await check(craft(es, header(es, { jwk: { ...es.jwk, d } }), claims())), 'invalid_dpop_proof', /private/);
  refused(await check(craft(es, header(es, { jwk: { kty: 'oct', k: 'c2VjcmV0' } }), claims())), 'invalid_dpop_proof', /private/);
  refused(await check(craft(es, header(es, { jwk: 'x' }), claims())), 'invalid_dpop_proof', /jwk/);
  refused(await check(craft(es, header(es, { jwk: undefined }), claims())), 'invalid_dpop_proof', /jwk/);
  refused(await check(craft(es, header(es, { jwk: { ...es.jwk, x: 'AAAA' } }), claims())), 'invalid_dpop_proof', /public key/);
  // Optional public members (kid, use, alg) are fine and do not change the thumbprint.
  const decorated = await check(craft(es, header(es, { jwk: { ...es.jwk, kid: 'k1', use: 'sig', alg: 'ES256' } }), claims()));
  assert.equal(decorated.ok, true);
  if (decorated.ok) assert.equal(decorated.jkt, jwkThumbprint(es.jwk));
});

test('RFC 9449 §4.3 step 8: htm must match the request method', async () => {
  refused(await check(craft(es, header(es), claims({ htm: 'GET' }))), 'invalid_dpop_proof', /htm/);
  refused(await check(craft(es, header(es), claims({ htm: 'post' }))), 'invalid_dpop_proof', /htm/);
  assert.equal((await check(craft(es, header(es), claims({ htm: 'GET' })), {}, { method: 'GET' })).ok, true);
});

test('RFC 9449 §4.3 step 9: htu must match the request URI after normalization, ignoring query and fragment', async () => {
  const ok = async (htu: string, url: string): Promise<void> => {
    const r = await check(craft(es, header(es), claims({ htu })), {}, { url });
    assert.equal(r.ok, true, `${htu} vs ${url}: ${r.ok ? '' : r.description}`);
  };
  await ok('https://api.example.com/v1/things', 'https://api.example.com/v1/things?page=2#top');
  await ok('HTTPS://API.Example.COM:443/v1/things', URL_);
  await ok('https://api.example.com/v1/./x/../things', URL_);
  await ok('https://api.example.com/v1/%7Ethings', 'https://api.example.com/v1/~things');
  await ok('https://api.example.com/a%2fb', 'https://api.example.com/a%2Fb');
  await ok('https://api.example.com', 'https://api.example.com/');
  for (const htu of ['https://api.example.com/v1/other', 'http://api.example.com/v1/things', 'https://api.example.com:8443/v1/things', 'https://evil.example.com/v1/things', 'https://api.example.com/v1/Things', 'urn:x:y', 'not a url']) {
    refused(await check(craft(es, header(es), claims({ htu }))), 'invalid_dpop_proof', /htu/);
  }
});

test('RFC 9449 §4.3 step 10 and §9: once a nonce was issued, proofs must carry it (use_dpop_nonce)', async () => {
  const nonceStore = createMemoryNonceStore();
  const verifier = createDpopVerifier({ clock, nonceStore });
  const send = (extra: Record<string, unknown> = {}): Promise<DpopVerification> =>
    verifier.verify({ method: 'POST', url: URL_, headers: { dpop: craft(es, header(es), claims(extra)) } });
  assert.equal((await send()).ok, true, 'no nonce needed before one is issued');
  const nonce = await verifier.issueNonce(jwkThumbprint(es.jwk));
  const without = await send();
  refused(without, 'use_dpop_nonce');
  if (!without.ok) {
    assert.equal(without.status, 401);
    assert.ok(without.dpopNonce && without.dpopNonce !== nonce, 'a fresh nonce comes with the refusal');
    assert.match(without.wwwAuthenticate, /error="use_dpop_nonce"/);
  }
  refused(await send({ nonce: 'not-issued' }), 'use_dpop_nonce');
  assert.equal((await send({ nonce })).ok, true);
  // Another key was never given a nonce: it is not affected.
  const other = craftKey('ES256');
  assert.equal((await verifier.verify({ method: 'POST', url: URL_, headers: { dpop: craft(other, header(other), claims()) } })).ok, true);
  // requireNonce: demanded from the first request on.
  const strict = createDpopVerifier({ clock, nonceStore: createMemoryNonceStore(), requireNonce: true, role: 'authorization-server' });
  const first = await strict.verify({ method: 'POST', url: URL_, headers: { dpop: craft(es, header(es), claims()) } });
  refused(first, 'use_dpop_nonce');
  if (!first.ok) {
    assert.equal(first.status, 400, 'an authorization server answers 400 (RFC 9449 §8)');
    const again = await strict.verify({ method: 'POST', url: URL_, headers: { dpop: craft(es, header(es), claims({ nonce: first.dpopNonce })) } });
    assert.equal(again.ok, true);
  }
  assert.throws(() => createDpopVerifier({ requireNonce: true }), /nonceStore/);
});

test('RFC 9449 §4.3 step 10: an expired nonce is refused and replaced', async () => {
  let now = NOW;
  const verifier = createDpopVerifier({ clock: () => now, nonceStore: createMemoryNonceStore({ ttlSeconds: 60 }), maxAgeSeconds: 3600 });
  const nonce = await verifier.issueNonce(jwkThumbprint(es.jwk));
  now += 61_000;
  const r = await verifier.verify({ method: 'POST', url: URL_, headers: { dpop: craft(es, header(es), claims({ nonce, iat: now / 1000 })) } });
  refused(r, 'use_dpop_nonce', /expired/);
});

test('RFC 9449 §4.3 step 11: iat must be inside the window, in both directions', async () => {
  const opts = { maxAgeSeconds: 300, maxFutureSeconds: 60 };
  refused(await check(craft(es, header(es), claims({ iat: NOW / 1000 - 301 })), opts), 'invalid_dpop_proof', /too old/);
  refused(await check(craft(es, header(es), claims({ iat: NOW / 1000 + 61 })), opts), 'invalid_dpop_proof', /future/);
  assert.equal((await check(craft(es, header(es), claims({ iat: NOW / 1000 - 299 })), opts)).ok, true);
  assert.equal((await check(craft(es, header(es), claims({ iat: NOW / 1000 + 59 })), opts)).ok, true);
});

test('RFC 9449 §4.3 step 12: ath must be the hash of the presented access token', async () => {
  const token = 'tok-Abc.123~x';
  const jkt = jwkThumbprint(es.jwk);
  const r = await check(craft(es, header(es), claims({ ath: ath(token) })), {}, { auth: `DPoP ${token}`, expectedJkt: jkt });
  assert.equal(r.ok, true);
  if (r.ok) assert.equal(r.tokenPresented, true);
  refused(await check(craft(es, header(es), claims()), {}, { auth: `DPoP ${token}`, expectedJkt: jkt }), 'invalid_dpop_proof', /ath is required/);
  refused(await check(craft(es, header(es), claims({ ath: ath('other') })), {}, { auth: `DPoP ${token}`, expectedJkt: jkt }), 'invalid_dpop_proof', /ath does not match/);
});

test('RFC 9449 §4.3 step 12 and §6: the token’s cnf.jkt must be the proof key', async () => {
  const token = 'bound-token';
  const wrongJkt = jwkThumbprint(craftKey('ES256').jwk);
  const r = await check(craft(es, header(es), claims({ ath: ath(token) })), {}, { auth: `DPoP ${token}`, expectedJkt: wrongJkt });
  refused(r, 'invalid_token', /Invalid DPoP key binding/);
  if (!r.ok) {
    assert.equal(r.status, 401);
    // RFC 9449 Figure 16.
    assert.equal(r.wwwAuthenticate, 'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256 EdDSA Ed25519"');
  }
  refused(await check(craft(es, header(es), claims({ ath: ath(token) })), {}, { auth: `DPoP ${token}` }), 'invalid_token', /binding/);
});

test('RFC 9449 §7.2: a DPoP-bound token presented with the Bearer scheme is refused', async () => {
  const token = 'bound-token';
  const r = await check(craft(es, header(es), claims({ ath: ath(token) })), {}, { auth: `Bearer ${token}`, expectedJkt: jwkThumbprint(es.jwk) });
  refused(r, 'invalid_token', /Bearer/);
  refused(await check(null, {}, { auth: `Bearer ${token}` }), 'invalid_token', /Bearer/);
});

test('RFC 9449 §7.1-7.2: challenges for missing, doubled and malformed credentials', async () => {
  const none = await check(null);
  assert.equal(none.ok, false);
  if (!none.ok) {
    assert.equal(none.status, 401);
    assert.equal(none.wwwAuthenticate, 'DPoP algs="ES256 EdDSA Ed25519"', 'RFC 6750 §3.1: no error code without credentials (Figure 15)');
  }
  const proof = craft(es, header(es), claims({ ath: ath('t') }));
  const doubled = await check(proof, {}, { auth: ['Bearer t', 'DPoP t'], expectedJkt: jwkThumbprint(es.jwk) });
  refused(doubled, 'invalid_request', /more than one Authorization/);
  if (!doubled.ok) assert.equal(doubled.status, 400, 'Figure 19: 400 for ambiguous credentials');
  refused(await check(proof, {}, { auth: 'DPoP' }), 'invalid_request', /malformed/);
  refused(await check(proof, {}, { auth: 'DPoP a b' }), 'invalid_request', /malformed/);
  refused(await check(proof, {}, { auth: 'DPoP t"x' }), 'invalid_request', /token68/);
  refused(await check(proof, {}, { auth: 'Basic dXNlcjpwYXNz' }), 'invalid_request', /scheme/);
  refused(await check(null, {}, { auth: 'DPoP t', expectedJkt: jwkThumbprint(es.jwk) }), 'invalid_dpop_proof', /missing DPoP proof/);
  const realm = await check(craft(es, header(es, { typ: 'JWT' }), claims()), { realm: 'cordon "fleet"' });
  if (!realm.ok) assert.match(realm.wwwAuthenticate, /^DPoP realm="cordon 'fleet'", error="invalid_dpop_proof", error_description="[^"]+", algs="/);
});

test('RFC 9449 §11.1: a jti is accepted once (replay), per key, until its proof expires', async () => {
  let now = NOW;
  const verifier = createDpopVerifier({ clock: () => now, maxAgeSeconds: 300 });
  const proof = craft(es, header(es), claims());
  const send = (p: string): Promise<DpopVerification> => verifier.verify({ method: 'POST', url: URL_, headers: { dpop: p } });
  assert.equal((await send(proof)).ok, true);
  refused(await send(proof), 'invalid_dpop_proof', /replay/);
  const other = craftKey('ES256');
  const jti = 'shared-jti-value';
  assert.equal((await send(craft(es, header(es), claims({ jti })))).ok, true);
  assert.equal((await send(craft(other, header(other), claims({ jti })))).ok, true, 'the same jti from another key is not a replay');
  now += 302_000;
  refused(await send(proof), 'invalid_dpop_proof', /too old/);
});

test('verifier: errors from the authorization-server role are 400 and descriptions never echo input', async () => {
  const secretish = 'SECRET-TOKEN-VALUE';
  const r = await check(craft(es, header(es), claims({ ath: ath('x') })), { role: 'authorization-server' }, { auth: `DPoP ${secretish}`, expectedJkt: jwkThumbprint(es.jwk) });
  refused(r, 'invalid_dpop_proof');
  if (!r.ok) {
    assert.equal(r.status, 400);
    assert.ok(!JSON.stringify(r).includes(secretish));
  }
});
