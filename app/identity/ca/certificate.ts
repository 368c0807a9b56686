/**
 * X.509 building for the local CA: node-forge assembles the certificate (names, extensions,
 * TBSCertificate DER) and node:crypto signs it. forge's own RSA signing in JavaScript takes
 * 20-40 ms per certificate; OpenSSL's takes about 1 ms, which is what keeps a cold leaf fast.
 * forge is loaded when the first certificate is made, not with the daemon (it would stay
 * resident, several MB, in a daemon that never inspects TLS).
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type forge from 'node-forge';
import { CoreError } from '../../api/errors.ts';

export type ForgeCertificate = forge.pki.Certificate;
export type NameAttribute = forge.pki.CertificateField;

let forgeModule: typeof forge | null = null;

/**
 * node-forge, loaded on first use. A synchronous require (forge is CommonJS), so minting a leaf
 * stays synchronous for the proxy's TLS callback; later calls return the loaded module.
 */
export function forgeLib(): typeof forge {
  forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof forge;
  return forgeModule;
}

/** The parts of forge the type definitions leave out. */
function getTBSCertificate(cert: ForgeCertificate): forge.asn1.Asn1 {
  return (forgeLib().pki as unknown as { getTBSCertificate(cert: ForgeCertificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
}

/** A positive 128-bit serial number as hex (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10; // positive, and no leading zero octet to strip
  return bytes.toString('hex');
}

/** A forge RSA public key from a node:crypto key (forge can only encode RSA keys). */
export function forgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  return forgeLib().pki.publicKeyFromPem(key.export({ type: 'spki', format: 'pem' }).toString());
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey BIT STRING contents, which for an
 * RSA key is its PKCS #1 RSAPublicKey DER. (Before this, a forge parsing slip hashed the same
 * text for every key, so every Cordon certificate carried one identifier; roots made then keep
 * theirs, and their leaves name it: see RootCa.keyIdentifier.)
 */
export function subjectKeyIdentifier(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'rsa') throw new CoreError('ERR_CA', `Cordon's CA certificates use RSA keys, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return createHash('sha1').update(key.export({ type: 'pkcs1', format: 'der' })).digest();
}

/** subjectKeyIdentifier with a precomputed value (forge would rehash the key for every certificate). */
export function skiExtension(ski: Buffer): object {
  const { asn1 } = forgeLib();
  return { name: 'subjectKeyIdentifier', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski.toString('binary')) };
}

/** authorityKeyIdentifier naming the issuer's key. */
export function akiExtension(issuerSki: Buffer): object {
  return { name: 'authorityKeyIdentifier', keyIdentifier: issuerSki.toString('binary') };
}

export type CertificateSpec = Readonly<{
  serialHex: string;
  subject: readonly NameAttribute[];
  issuer: readonly NameAttribute[];
  publicKey: forge.pki.rsa.PublicKey;
  notBefore: Date;
  notAfter: Date;
  extensions: readonly object[];
}>;

/** Builds the certificate with forge and signs it (sha256WithRSAEncryption) with the issuer's node:crypto key. */
export function buildSignedCertificate(spec: CertificateSpec, issuerKey: KeyObject): { pem: string; der: Buffer } {
  const forge = forgeLib();
  const cert = forge.pki.createCertificate();
  cert.publicKey = spec.publicKey;
  cert.serialNumber = spec.serialHex;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  // forge fills in missing fields of what it is given: hand it copies.
  cert.setSubject(spec.subject.map((a) => ({ ...a })));
  cert.setIssuer(spec.issuer.map((a) => ({ ...a })));
  cert.setExtensions(spec.extensions.map((e) => ({ ...e })));
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption ?? '1.2.840.113549.1.1.11';
  const tbs = getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, issuerKey).toString('binary');
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { pem: toPem(der), der };
}

export function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
