// The RFCs' own examples as fixed vectors: RFC 9449 Figures 2, 7 and 13 verify with a frozen
// clock; RFC 7638 §3.1 and RFC 9449 §6.1 thumbprints; Figure 14's ath.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { accessTokenHash } from '../../app/identity/dpop/proof.ts';
import { jwkThumbprint, thumbprintInput } from '../../app/identity/jwk.ts';
import {
  RFC7638_JWK,
  RFC7638_THUMBPRINT,
  RFC9449_FIGURE_13,
  RFC9449_FIGURE_13_REQUEST,
  RFC9449_FIGURE_2,
  RFC9449_FIGURE_2_REQUEST,
  RFC9449_FIGURE_7,
  RFC9449_FIGURE_7_REQUEST,
  RFC9449_JKT,
  RFC9449_JWK,
} from './vectors.ts';

const frozen = (iat: number) => (): number => iat * 1000 + 5_000;

test('https://www.rfc-editor.org/rfc/rfc7638#section-3.1: thumbprint of the example RSA key', async () => {
  assert.equal(jwkThumbprint(RFC7638_JWK), RFC7638_THUMBPRINT);
  assert.equal(thumbprintInput(RFC7638_JWK).startsWith('{"e":"AQAB","kty":"RSA","n":"0vx7'), true);
  assert.equal(await calculateJwkThumbprint(RFC7638_JWK), RFC7638_THUMBPRINT, 'jose agrees');
});

test('https://www.rfc-editor.org/rfc/rfc9449#section-6.1: jkt of the example key (Figures 9 and 11)', () => {
  assert.equal(jwkThumbprint(RFC9449_JWK), RFC9449_JKT);
});

test('https://www.rfc-editor.org/rfc/rfc9449#section-4.1: Figure 2 verifies with a frozen clock', async () => {
  const verifier = createDpopVerifier({ clock: frozen(RFC9449_FIGURE_2_REQUEST.iat), role: 'authorization-server' });
  const r = await verifier.verify({ method: 'POST', url: RFC9449_FIGURE_2_REQUEST.url, headers: { DPoP: RFC9449_FIGURE_2 } });
  assert.equal(r.ok, true, r.ok ? '' : r.description);
  if (r.ok) {
    assert.equal(r.jkt, RFC9449_JKT);
    assert.equal(r.claims.jti, RFC9449_FIGURE_2_REQUEST.jti);
    assert.equal(r.claims.iat, RFC9449_FIGURE_2_REQUEST.iat);
  }
  // The same proof an hour later is too old, and against another URI it does not match.
  const late = createDpopVerifier({ clock: frozen(RFC9449_FIGURE_2_REQUEST.iat + 3600) });
  assert.equal((await late.verify({ method: 'POST', url: RFC9449_FIGURE_2_REQUEST.url, headers: { DPoP: RFC9449_FIGURE_2 } })).ok, false);
  assert.equal((await verifier.verify({ method: 'POST', url: 'https://server.example.com/other', headers: { DPoP: RFC9449_FIGURE_2 } })).ok, false);
});

test('https://www.rfc-editor.org/rfc/rfc9449#section-5: Figure 7 (refresh token request) verifies with a frozen clock', async () => {
  const verifier = createDpopVerifier({ clock: frozen(RFC9449_FIGURE_7_REQUEST.iat), role: 'authorization-server' });
  const r = await verifier.verify({ method: RFC9449_FIGURE_7_REQUEST.method, url: RFC9449_FIGURE_7_REQUEST.url, headers: { DPoP: RFC9449_FIGURE_7 } });
  assert.equal(r.ok, true, r.ok ? '' : r.description);
  if (r.ok) assert.equal(r.jkt, RFC9449_JKT);
  // Figures 2 and 7 share a jti: with one replay cache the second would be refused only inside
  // the window, and their iats are 45 minutes apart, so each verifies in its own window.
});

test('https://www.rfc-editor.org/rfc/rfc9449#section-7.1: Figure 13 verifies with its access token and key binding', async () => {
  const req = RFC9449_FIGURE_13_REQUEST;
  assert.equal(accessTokenHash(req.accessToken), req.ath, 'Figure 14 ath is the hash of the Figure 6 token');
  const verifier = createDpopVerifier({ clock: frozen(req.iat) });
  const r = await verifier.verify({
    method: req.method,
    url: req.url,
    headers: { Authorization: `DPoP ${req.accessToken}`, DPoP: RFC9449_FIGURE_13 },
    expectedJkt: RFC9449_JKT,
  });
  assert.equal(r.ok, true, r.ok ? '' : r.description);
  if (r.ok) {
    assert.equal(r.claims.ath, req.ath);
    assert.equal(r.tokenPresented, true);
  }
  const swapped = await createDpopVerifier({ clock: frozen(req.iat) }).verify({
    method: req.method,
    url: req.url,
    headers: { Authorization: 'DPoP another-token', DPoP: RFC9449_FIGURE_13 },
    expectedJkt: RFC9449_JKT,
  });
  assert.equal(swapped.ok, false, 'the proof is bound to its own token');
});
