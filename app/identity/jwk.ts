/**
 * Public JSON Web Keys: the RFC 7638 thumbprint (the jkt that binds a token to a key), export of
 * a KeyObject's public half, and the private-member check every received JWK must pass. Private
 * JWKs only ever travel between this module's callers and the keychain.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { CoreError } from '../api/errors.ts';

/** A public JWK as it appears in a DPoP header (only the members we understand are typed). */
export type PublicJwk = Readonly<{
  kty: 'EC' | 'OKP' | 'RSA';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}>;

/** Members that carry private or symmetric key material (RFC 7518 §6, RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/**
 * The base64url SHA-256 JWK thumbprint of a key.
 * @see RFC 7638 §3 (canonical JSON of the required members, lexicographic order, no whitespace)
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(thumbprintInput(jwk)).digest('base64url');
}

/** The exact UTF-8 string RFC 7638 hashes; throws ERR_BAD_REQUEST for an unusable JWK. */
export function thumbprintInput(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk.kty;
  if (typeof kty !== 'string') throw new CoreError('ERR_BAD_REQUEST', 'JWK has no "kty"');
  const members = REQUIRED_MEMBERS[kty];
  if (!members) throw new CoreError('ERR_BAD_REQUEST', `JWK key type '${kty.slice(0, 20)}' is not supported`);
  const parts: string[] = [];
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new CoreError('ERR_BAD_REQUEST', `JWK of type ${kty} lacks the "${name}" member`);
    }
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return `{${parts.join(',')}}`;
}

/** True when the JWK carries any private or symmetric key member. */
export function hasPrivateMembers(jwk: Readonly<Record<string, unknown>>): boolean {
  return PRIVATE_MEMBERS.some((name) => Object.hasOwn(jwk, name));
}

/** The public JWK of a key pair (either half), reduced to the members a verifier needs. */
export function publicJwkOf(key: KeyObject): PublicJwk {
  const full = key.export({ format: 'jwk' });
  switch (full.kty) {
    case 'EC':
      return { kty: 'EC', crv: req(full.crv), x: req(full.x), y: req(full.y) };
    case 'OKP':
      return { kty: 'OKP', crv: req(full.crv), x: req(full.x) };
    case 'RSA':
      return { kty: 'RSA', n: req(full.n), e: req(full.e) };
    default:
      throw new CoreError('ERR_BAD_REQUEST', `unsupported key type '${String(full.kty)}'`);
  }
}

function req(value: string | undefined): string {
  if (typeof value !== 'string') throw new CoreError('ERR_INTERNAL', 'exported JWK is missing a member');
  return value;
}
