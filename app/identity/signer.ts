/**
 * A Signer: a private key held in memory plus what a proof needs about it (algorithm, public JWK,
 * thumbprint). Key generation and private-JWK (de)serialization for the keychain live here too.
 */
import { createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CoreError } from '../api/errors.ts';
import { signJws, type SigningAlgorithm } from './jws.ts';
import { jwkThumbprint, publicJwkOf, type PublicJwk } from './jwk.ts';

export type Signer = Readonly<{
  alg: SigningAlgorithm;
  publicJwk: PublicJwk;
  /** RFC 7638 thumbprint of publicJwk. */
  jkt: string;
  /** Signs a JWS signing input, returning the raw signature. */
  sign(signingInput: Buffer): Buffer;
}>;

/** Wraps a private key; the key stays inside the closure and is never exported again. */
export function createSigner(privateKey: KeyObject, alg: SigningAlgorithm): Signer {
  if (privateKey.type !== 'private') throw new CoreError('ERR_BAD_REQUEST', 'a signer needs a private key');
  checkKeyFits(privateKey, alg);
  const publicJwk = publicJwkOf(privateKey);
  return {
    alg,
    publicJwk,
    jkt: jwkThumbprint(publicJwk),
    sign: (input) => signJws(alg, privateKey, input),
  };
}

/** A fresh key pair for alg: P-256 for ES256, Ed25519 for EdDSA. */
export function generatePrivateKey(alg: SigningAlgorithm): KeyObject {
  return alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;
}

/** The private JWK JSON stored in the keychain (with "alg" so a reload knows how to sign). */
export function serializePrivateKey(privateKey: KeyObject, alg: SigningAlgorithm): string {
  return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), alg });
}

/** Parses what serializePrivateKey stored; a damaged entry is ERR_KEY_CORRUPT. */
export function parsePrivateKey(stored: string): { privateKey: KeyObject; alg: SigningAlgorithm } {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(stored) as Record<string, unknown>;
  } catch (error) {
    throw new CoreError('ERR_KEY_CORRUPT', 'keychain entry is not a JWK', { cause: error });
  }
  const alg = jwk.alg;
  if (alg !== 'ES256' && alg !== 'EdDSA') throw new CoreError('ERR_KEY_CORRUPT', 'keychain entry has no usable "alg"');
  try {
    const { alg: _alg, ...keyJwk } = jwk;
    const privateKey = createPrivateKey({ key: keyJwk as JsonWebKey, format: 'jwk' });
    checkKeyFits(privateKey, alg);
    return { privateKey, alg };
  } catch (error) {
    if (error instanceof CoreError) throw error;
    throw new CoreError('ERR_KEY_CORRUPT', 'keychain entry is not a valid private key', { cause: error });
  }
}

function checkKeyFits(key: KeyObject, alg: SigningAlgorithm): void {
  const ok =
    alg === 'ES256' ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' : key.asymmetricKeyType === 'ed25519';
  if (!ok) throw new CoreError('ERR_KEY_CORRUPT', `key type does not match ${alg}`);
}
