/**
 * Test tooling: hand-crafted compact JWS with any header and payload (including ones Cordon's
 * proof builder refuses to make), signed with node:crypto directly.
 */
import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export type CraftKey = Readonly<{ privateKey: KeyObject; jwk: Record<string, string>; alg: string }>;

export function craftKey(kind: 'ES256' | 'ES384' | 'EdDSA' | 'PS256' | 'RS256-1024' = 'ES256'): CraftKey {
  const pair =
    kind === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'ES384'
        ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : kind === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: kind === 'PS256' ? 2048 : 1024 });
  const full = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return { privateKey: pair.privateKey, jwk: full, alg: kind === 'RS256-1024' ? 'RS256' : kind };
}

export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Signs header.payload with the key for header.alg (ES*, EdDSA, PS256, RS256, HS256 with `hmacSecret`). */
export function craft(key: CraftKey, header: Record<string, unknown>, payload: Record<string, unknown>, hmacSecret?: Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = String(header.alg);
  let sig: Buffer;
  if (alg === 'none') sig = Buffer.alloc(0);
  else if (alg.startsWith('HS')) sig = createHmac('sha256', hmacSecret ?? Buffer.alloc(32)).update(input).digest();
  else if (alg === 'ES256') sig = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'ES384') sig = sign('sha384', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA' || alg === 'Ed25519') sig = sign(null, Buffer.from(input), key.privateKey);
  else if (alg === 'PS256') sig = sign('sha256', Buffer.from(input), { key: key.privateKey, padding: 6, saltLength: 32 });
  else sig = sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
