// Leaf certificates: SANs for names and IPs, chain to the root, short validity, the LRU, and a
// real TLS handshake with a client that trusts only the Cordon root.
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { connect, createServer, type Server } from 'node:tls';
import { ensureRootCa, type RootCa } from '../../app/identity/ca/rootCa.ts';
import { createLeafIssuer, type LeafIssuer } from '../../app/identity/ca/leafCache.ts';
import { normalizeLeafHost } from '../../app/identity/ca/hostName.ts';
import { KEYRING_SKIP, tempHome, testKeyStore, type TestHome } from './helpers.ts';

let home: TestHome;
let store: ReturnType<typeof testKeyStore>;
let ca: RootCa;
let issuer: LeafIssuer;

before(async () => {
  if (KEYRING_SKIP) return;
  home = await tempHome();
  store = testKeyStore();
  ca = (await ensureRootCa({ keyStore: store, dataDir: home.dataDir })).ca;
  issuer = await createLeafIssuer(ca, { maxEntries: 50 });
});

after(async () => {
  if (KEYRING_SKIP) return;
  await store.purge();
  await home.cleanup();
});

test('host names: normalized to the SAN a certificate carries; junk refused', () => {
  assert.deepEqual(normalizeLeafHost('Example.TEST.'), { type: 'dns', value: 'example.test' });
  assert.deepEqual(normalizeLeafHost('bücher.example'), { type: 'dns', value: 'xn--bcher-kva.example' });
  assert.deepEqual(normalizeLeafHost('127.0.0.1'), { type: 'ip', value: '127.0.0.1' });
  assert.deepEqual(normalizeLeafHost('[2001:DB8:0::1]'), { type: 'ip', value: '2001:db8::1' });
  assert.deepEqual(normalizeLeafHost('localhost'), { type: 'dns', value: 'localhost' });
  for (const bad of ['', '*.example.com', 'a..b', 'exa mple.com', '-x.example', 'x'.repeat(64) + '.com', '1.2.3.04', 'fe80::1%eth0', 'a/b', 'host:443']) {
    assert.equal(normalizeLeafHost(bad), null, bad);
  }
});

test('leaf: DNS SAN, chains to the root, short validity, serverAuth', { skip: KEYRING_SKIP }, () => {
  const leaf = issuer.leafFor('Api.Example.test');
  const x = new X509Certificate(leaf.certPem);
  assert.ok(x.verify(ca.certificate.publicKey), 'signed by the root');
  assert.ok(x.checkIssued(ca.certificate), 'issuer name and key id match the root');
  assert.equal(x.checkHost('api.example.test'), 'api.example.test');
  assert.equal(x.checkHost('other.example.test'), undefined);
  assert.equal(x.subjectAltName, 'DNS:api.example.test');
  assert.equal(x.ca, false);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const lifetime = new Date(x.validTo).getTime() - new Date(x.validFrom).getTime();
  assert.ok(lifetime <= 74 * 3_600_000 && lifetime >= 72 * 3_600_000, `lifetime ${lifetime}`);
  assert.equal(leaf.chainPem, leaf.certPem);
  assert.ok(x.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.equal(leaf.secureContext(), leaf.secureContext(), 'one TLS context per leaf');
});

test('leaf: IPv4 and IPv6 SANs match checkIP', { skip: KEYRING_SKIP }, () => {
  const v4 = new X509Certificate(issuer.leafFor('10.1.2.3').certPem);
  assert.equal(v4.checkIP('10.1.2.3'), '10.1.2.3');
  assert.equal(v4.checkIP('10.1.2.4'), undefined);
  assert.equal(v4.checkHost('10.1.2.3'), undefined, 'an IP is not a DNS name');
  const v6 = new X509Certificate(issuer.leafFor('[::1]').certPem);
  assert.equal(v6.checkIP('::1'), '::1');
});

test('leaf cache: hits return the same leaf, spellings share it, the LRU stays bounded, bad hosts throw', { skip: KEYRING_SKIP }, () => {
  const a = issuer.leafFor('cache.example.test');
  assert.equal(issuer.leafFor('cache.example.test'), a);
  assert.equal(issuer.leafFor('CACHE.example.test.'), a);
  for (let i = 0; i < 120; i++) issuer.leafFor(`h${i}.example.test`);
  assert.ok(issuer.size() <= 50);
  assert.notEqual(issuer.leafFor('cache.example.test'), a, 'evicted, then minted again');
  assert.throws(() => issuer.leafFor('*.example.test'), { code: 'ERR_BAD_REQUEST' });
});

test('leaf cache: a leaf close to expiry is minted again', { skip: KEYRING_SKIP }, async () => {
  let now = Date.now();
  const timed = await createLeafIssuer(ca, { clock: () => now, validityHours: 72, renewBeforeHours: 24 });
  const first = timed.leafFor('renew.example.test');
  now += 47 * 3_600_000;
  assert.equal(timed.leafFor('renew.example.test'), first);
  now += 2 * 3_600_000;
  const second = timed.leafFor('renew.example.test');
  assert.notEqual(second, first);
  assert.ok(second.notAfter > first.notAfter);
});

function dial(port: number, servername: string, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ...(ca ? { ca: [ca] } : {}) });
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('TLS handshake: a client trusting only the Cordon root accepts example.test and refuses another name', { skip: KEYRING_SKIP }, async () => {
  const leaf = issuer.leafFor('example.test');
  const server = createServer({ key: leaf.keyPem, cert: leaf.chainPem }, (socket) => socket.end('hi'));
  const port = await listen(server);
  try {
    assert.equal(await dial(port, 'example.test', ca.certPem), 'hi');
    await assert.rejects(dial(port, 'other.test', ca.certPem), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await assert.rejects(dial(port, 'example.test'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'without the Cordon root the leaf is not trusted');
  } finally {
    server.close();
  }
});

test('TLS handshake: the proxy pattern, one minted leaf per SNI name', { skip: KEYRING_SKIP }, async () => {
  const fallback = issuer.leafFor('fallback.test');
  const server = createServer({ key: fallback.keyPem, cert: fallback.chainPem, SNICallback: (name, cb) => cb(null, issuer.leafFor(name).secureContext()) }, (socket) => socket.end('ok'));
  const port = await listen(server);
  try {
    assert.equal(await dial(port, 'a.example.test', ca.certPem), 'ok');
    assert.equal(await dial(port, 'b.example.test', ca.certPem), 'ok');
  } finally {
    server.close();
  }
});

test('key identifiers: each key its own (RFC 5280 method 1), and a leaf names its root\'s exactly', { skip: KEYRING_SKIP }, async () => {
  const forge = createRequire(import.meta.url)('node-forge') as typeof Forge;
  const skiOf = (pem: string): string => (forge.pki.certificateFromPem(pem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
  const akiOf = (pem: string): string => {
    // authorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier ... }: forge keeps the raw extension value.
    const ext = forge.pki.certificateFromPem(pem).getExtension('authorityKeyIdentifier') as { value: string };
    const seq = forge.asn1.fromDer(ext.value);
    return forge.util.bytesToHex(String((seq.value as Forge.asn1.Asn1[])[0]?.value ?? ''));
  };
  const expected = createHash('sha1').update(ca.certificate.publicKey.export({ type: 'pkcs1', format: 'der' })).digest('hex');
  assert.equal(skiOf(ca.certPem), expected, 'the root identifies its own key');
  const a = issuer.leafFor('a.example.test');
  const leafKey = new X509Certificate(a.certPem).publicKey.export({ type: 'pkcs1', format: 'der' });
  assert.equal(skiOf(a.certPem), createHash('sha1').update(leafKey).digest('hex'), 'the leaf identifies its own key');
  assert.notEqual(skiOf(a.certPem), skiOf(ca.certPem));
  assert.equal(akiOf(a.certPem), skiOf(ca.certPem), "the leaf's authorityKeyIdentifier is the root's subjectKeyIdentifier");
});
