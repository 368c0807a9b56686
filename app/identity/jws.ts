/**
 * The JWS signature algorithms Cordon signs and verifies with node:crypto: which key type each
 * needs and how node:crypto is told to produce or check it. Only asymmetric algorithms exist
 * here; "none" and the HMAC family are not representable.
 * @see RFC 7518 §3, RFC 8037 §3.1, RFC 9864 (fully specified Ed25519)
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';

/** Every asymmetric JWS algorithm the verifier can check. */
export const SUPPORTED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
  'Ed25519',
] as const;

export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** What Cordon's own keys sign with: ES256 by default, EdDSA (Ed25519) on request. */
export type SigningAlgorithm = 'ES256' | 'EdDSA';

type AlgSpec = Readonly<{
  kty: 'EC' | 'RSA' | 'OKP';
  /** Accepted curves for EC/OKP keys. */
  curves?: readonly string[];
  /** Digest name for node:crypto, or null for EdDSA (the curve fixes it). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  padding?: number;
  saltLength?: number;
  /** Raw signature length in bytes for fixed-size algorithms. */
  signatureLength?: number;
}>;

const SPECS: Readonly<Record<JwsAlgorithm, AlgSpec>> = {
  ES256: { kty: 'EC', curves: ['P-256'], hash: 'sha256', signatureLength: 64 },
  ES384: { kty: 'EC', curves: ['P-384'], hash: 'sha384', signatureLength: 96 },
  ES512: { kty: 'EC', curves: ['P-521'], hash: 'sha512', signatureLength: 132 },
  PS256: { kty: 'RSA', hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  PS384: { kty: 'RSA', hash: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  PS512: { kty: 'RSA', hash: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  RS256: { kty: 'RSA', hash: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  RS384: { kty: 'RSA', hash: 'sha384', padding: constants.RSA_PKCS1_PADDING },
  RS512: { kty: 'RSA', hash: 'sha512', padding: constants.RSA_PKCS1_PADDING },
  EdDSA: { kty: 'OKP', curves: ['Ed25519', 'Ed448'], hash: null },
  Ed25519: { kty: 'OKP', curves: ['Ed25519'], hash: null, signatureLength: 64 },
};

/** RSA moduli below this are refused (RFC 7518 §3.3 requires 2048 bits or more). */
const MIN_RSA_BITS = 2048;

export function isSupportedAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(SPECS, alg);
}

/** Why a public JWK cannot be used with alg, or null when it fits. */
export function keyMismatch(alg: JwsAlgorithm, jwk: Readonly<Record<string, unknown>>): string | null {
  const spec = SPECS[alg];
  if (jwk.kty !== spec.kty) return `alg ${alg} needs a ${spec.kty} key`;
  if (spec.curves && !spec.curves.includes(String(jwk.crv))) return `alg ${alg} needs curve ${spec.curves.join(' or ')}`;
  if (spec.kty === 'RSA') {
    const n = typeof jwk.n === 'string' ? Buffer.from(jwk.n, 'base64url') : Buffer.alloc(0);
    const bits = n.length * 8 - (n.length > 0 ? Math.clz32(n[0] ?? 0) - 24 : 0);
    if (bits < MIN_RSA_BITS) return `RSA keys must have at least ${MIN_RSA_BITS} bits`;
  }
  return null;
}

/** Signs a JWS signing input; the result is the raw JWS signature (P1363 for ECDSA). */
export function signJws(alg: JwsAlgorithm, key: KeyObject, input: Buffer): Buffer {
  const spec = SPECS[alg];
  // ECDSA: sign with the bare KeyObject (DER output) and convert here. Passing
  // { key, dsaEncoding: 'ieee-p1363' } costs node:crypto 2-3x the signature itself.
  if (spec.kty === 'EC') return derToP1363(sign(spec.hash, input, key), (spec.signatureLength ?? 64) / 2);
  return sign(spec.hash, input, nodeKey(spec, key));
}

/** ECDSA-Sig-Value (SEQUENCE of two INTEGERs, RFC 3279 §2.2.3) to r || s, each `size` bytes (RFC 7518 §3.4). */
export function derToP1363(der: Buffer, size: number): Buffer {
  let offset = 2;
  if (der[0] !== 0x30) throw new Error('not an ECDSA DER signature');
  if ((der[1] ?? 0) & 0x80) offset += (der[1] ?? 0) & 0x7f;
  const out = Buffer.alloc(size * 2);
  for (let part = 0; part < 2; part++) {
    if (der[offset] !== 0x02) throw new Error('not an ECDSA DER signature');
    const len = der[offset + 1] ?? 0;
    let start = offset + 2;
    let n = len;
    while (n > size && der[start] === 0) {
      start++;
      n--;
    }
    if (n > size) throw new Error('ECDSA integer too long');
    der.copy(out, part * size + (size - n), start, start + n);
    offset += 2 + len;
  }
  return out;
}

/** Checks a raw JWS signature. Never throws for a bad signature; returns false. */
export function verifyJws(alg: JwsAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  const spec = SPECS[alg];
  if (spec.signatureLength !== undefined && signature.length !== spec.signatureLength) return false;
  try {
    if (spec.kty === 'EC') return verify(spec.hash, input, key, p1363ToDer(signature));
    return verify(spec.hash, input, nodeKey(spec, key), signature);
  } catch {
    return false;
  }
}

/** r || s to ECDSA-Sig-Value DER (the inverse of derToP1363). */
export function p1363ToDer(raw: Buffer): Buffer {
  const size = raw.length / 2;
  const ints = [raw.subarray(0, size), raw.subarray(size)].map((v) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const trimmed = v.subarray(i);
    return (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  });
  const body = Buffer.concat(ints.flatMap((v) => [Buffer.from([0x02, v.length]), v]));
  const head = body.length < 0x80 ? Buffer.from([0x30, body.length]) : Buffer.from([0x30, 0x81, body.length]);
  return Buffer.concat([head, body]);
}

function nodeKey(spec: AlgSpec, key: KeyObject): KeyObject | { key: KeyObject; dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } {
  if (spec.kty === 'EC') return { key, dsaEncoding: 'ieee-p1363' };
  if (spec.kty === 'RSA') return { key, padding: spec.padding, ...(spec.saltLength !== undefined ? { saltLength: spec.saltLength } : {}) };
  return key;
}
