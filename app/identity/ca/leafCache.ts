/**
 * Leaf certificates for TLS inspection, minted on demand per host by the root CA and kept in a
 * bounded LRU. One RSA key pair is generated per issuer (per root, per daemon run) and shared by
 * every leaf, so a cold leaf costs one signature (~1 ms), not a key generation.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { CoreError } from '../../api/errors.ts';
import { akiExtension, buildSignedCertificate, forgePublicKey, randomSerialHex, skiExtension, subjectKeyIdentifier } from './certificate.ts';
import { normalizeLeafHost, type LeafHost } from './hostName.ts';
import type { RootCa } from './rootCa.ts';

const HOUR_MS = 3_600_000;

export type LeafIssuerOptions = Readonly<{
  /** Leaves kept at once (default 1,000); the least recently used is dropped first. */
  maxEntries?: number;
  /** Leaf lifetime (default 72 h; never past the root's expiry). */
  validityHours?: number;
  /** A cached leaf is re-minted when less than this is left (default 24 h). */
  renewBeforeHours?: number;
  clock?: () => number;
}>;

export type LeafCertificate = Readonly<{
  /** The normalized host (DNS name or IP) the leaf is for. */
  host: string;
  hostType: LeafHost['type'];
  serial: string;
  certPem: string;
  /** The shared leaf private key (PKCS#8 PEM): keep in memory only. */
  keyPem: string;
  /** What the proxy serves: the leaf alone; the root is the client's trust anchor (cordon ca export). */
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
  /** A node:tls context for this leaf, created on first call and reused. */
  secureContext(): SecureContext;
}>;

export type LeafIssuer = Readonly<{
  ca: RootCa;
  /** The leaf for a host name or IP literal (cached). Throws ERR_BAD_REQUEST for an unusable host. */
  leafFor(host: string): LeafCertificate;
  size(): number;
}>;

/** Creates the issuer for one root: generates the shared leaf key once (about 50-100 ms). */
export async function createLeafIssuer(ca: RootCa, options: LeafIssuerOptions = {}): Promise<LeafIssuer> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return leafIssuerWithKey(ca, privateKey, publicKey, options);
}

function leafIssuerWithKey(ca: RootCa, privateKey: KeyObject, publicKey: KeyObject, options: LeafIssuerOptions): LeafIssuer {
  const maxEntries = options.maxEntries ?? 1000;
  const validity = (options.validityHours ?? 72) * HOUR_MS;
  const renewBefore = Math.min((options.renewBeforeHours ?? 24) * HOUR_MS, validity / 2);
  const clock = options.clock ?? Date.now;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // forge's form of the shared key and its identifier, made with the first leaf (forge loads then, not at start-up).
  let forgeKey: ReturnType<typeof forgePublicKey> | null = null;
  let ski: Buffer | null = null;
  const cache = new Map<string, { leaf: LeafCertificate; renewAt: number }>();

  const mint = (san: LeafHost, now: number): LeafCertificate => {
    const serial = randomSerialHex();
    const notBefore = new Date(now - HOUR_MS);
    const notAfter = new Date(Math.min(now + validity, ca.notAfter.getTime()));
    if (notAfter.getTime() <= now) throw new CoreError('ERR_CA', "the root CA has expired; run 'cordon ca rotate'");
    const { pem } = buildSignedCertificate(
      {
        serialHex: serial,
        // CN only for DNS names that fit (64 chars); IP leaves name their address in the SAN alone.
        subject: san.type === 'dns' && san.value.length <= 64 ? [{ name: 'commonName', value: san.value }] : [{ name: 'organizationName', value: 'Cordon inspected host' }],
        issuer: ca.subject,
        publicKey: (forgeKey ??= forgePublicKey(publicKey)),
        notBefore,
        notAfter,
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [san.type === 'ip' ? { type: 7, ip: san.value } : { type: 2, value: san.value }] },
          skiExtension((ski ??= subjectKeyIdentifier(publicKey))),
          akiExtension(ca.keyIdentifier),
        ],
      },
      ca.privateKey,
    );
    let context: SecureContext | null = null;
    return {
      host: san.value,
      hostType: san.type,
      serial,
      certPem: pem,
      keyPem,
      chainPem: pem,
      notBefore,
      notAfter,
      secureContext: () => (context ??= createSecureContext({ key: keyPem, cert: pem })),
    };
  };

  return {
    ca,
    leafFor(host) {
      const now = clock();
      const hit = cache.get(host);
      if (hit !== undefined && hit.renewAt > now) {
        cache.delete(host);
        cache.set(host, hit);
        return hit.leaf;
      }
      const san = normalizeLeafHost(host);
      if (san === null) throw new CoreError('ERR_BAD_REQUEST', 'not a host name or IP address a certificate can name');
      // Different spellings of one host ("Example.test.", "example.test") share the leaf.
      const canonical = san.value === host ? hit : cache.get(san.value);
      const leaf = canonical !== undefined && canonical.renewAt > now ? canonical.leaf : mint(san, now);
      const entry = { leaf, renewAt: Math.min(leaf.notAfter.getTime() - renewBefore, ca.notAfter.getTime()) };
      for (const key of san.value === host ? [host] : [san.value, host]) {
        cache.delete(key);
        cache.set(key, entry);
      }
      while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      return leaf;
    },
    size: () => cache.size,
  };
}
