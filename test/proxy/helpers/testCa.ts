/**
 * A throwaway certificate authority for proxy tests and the proxy benchmark (node-forge): a CA
 * certificate plus leaves for host names and IPs, cached per host, as TLS secure contexts.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { isIP } from 'node:net';
import forge from 'node-forge';

export type TestCa = Readonly<{
  caPem: string;
  /** A leaf for the names (DNS names or IPs), signed by this CA. */
  leaf(names: readonly string[]): { key: string; cert: string };
  /** A cached secure context for one host (what ProxyHooks.tls needs). */
  secureContextFor(host: string): SecureContext;
}>;

export function createTestCa(commonName = 'Cordon Test CA'): TestCa {
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const leafKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const leafKeyPem = forge.pki.privateKeyToPem(leafKeys.privateKey);
  const subject = [{ name: 'commonName', value: commonName }];
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = new Date(Date.now() - 60_000);
  ca.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  ca.setSubject(subject);
  ca.setIssuer(subject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const caPem = forge.pki.certificateToPem(ca);
  const contexts = new Map<string, SecureContext>();

  const leaf = (names: readonly string[]): { key: string; cert: string } => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = leafKeys.publicKey;
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
      { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { key: leafKeyPem, cert: forge.pki.certificateToPem(cert) };
  };

  return {
    caPem,
    leaf,
    secureContextFor(host) {
      let context = contexts.get(host);
      if (!context) {
        const { key, cert } = leaf([host]);
        context = createSecureContext({ key, cert });
        contexts.set(host, context);
      }
      return context;
    },
  };
}

function serial(): string {
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(12))}`;
}
