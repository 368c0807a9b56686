// The local root CA with the real keychain: first run, reload, no private key on disk, rotation
// with a grace period in the exported bundle.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { caBundlePem, caDir, defaultBundlePath, ensureRootCa, exportCaBundle, loadRootCa, rotateRootCa, type CaOptions } from '../../app/identity/ca/rootCa.ts';
import { createLeafIssuer } from '../../app/identity/ca/leafCache.ts';
import { KEYRING_SKIP, tempHome, testKeyStore } from './helpers.ts';

const DAY = 86_400_000;

async function setup(clock?: () => number) {
  const home = await tempHome();
  const keyStore = testKeyStore();
  const options: CaOptions = { keyStore, dataDir: home.dataDir, ...(clock ? { clock } : {}) };
  return { home, keyStore, options, done: async () => (await keyStore.purge(), await home.cleanup()) };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

test('root CA: made on first run, key in the keychain only, reloaded as the same root', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    assert.equal(await loadRootCa(t.options), null);
    const { ca, created } = await ensureRootCa(t.options);
    assert.equal(created, true);
    assert.equal(ca.certificate.ca, true);
    assert.ok(ca.certificate.verify(ca.certificate.publicKey), 'self-signed');
    assert.ok(ca.notAfter.getTime() - Date.now() > 300 * DAY);
    assert.match(ca.certificate.subject, /CN=Cordon Local Inspection CA/);
    assert.ok(ca.certificate.keyUsage === undefined || Array.isArray(ca.certificate.keyUsage));
    const again = await ensureRootCa(t.options);
    assert.equal(again.created, false);
    assert.equal(again.ca.fingerprint256, ca.fingerprint256);
    assert.ok(await t.keyStore.get(`ca:${ca.serial}`), 'the CA key is in the keychain');
    for (const file of await filesUnder(t.home.home)) {
      assert.ok(!/PRIVATE KEY/.test(await readFile(file, 'utf8')), `${file} must not hold a private key`);
    }
    assert.equal((await stat(join(caDir(t.home.dataDir), 'ca.json'))).mode & 0o777, 0o600);
  } finally {
    await t.done();
  }
});

test('root CA: a missing keychain key or damaged state is ERR_CA with a way out', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const { ca } = await ensureRootCa(t.options);
    await t.keyStore.delete(`ca:${ca.serial}`);
    await assert.rejects(loadRootCa(t.options), { code: 'ERR_CA', message: /ca rotate/ });
    const { ca: fresh } = await rotateRootCa(t.options);
    assert.notEqual(fresh.serial, ca.serial);
    await writeFile(join(caDir(t.home.dataDir), 'ca.json'), '{"version":1,"current":{"serial":"../x"}}');
    await assert.rejects(loadRootCa(t.options), { code: 'ERR_CA' });
  } finally {
    await t.done();
  }
});

test('root CA rotation: new root signs new leaves, old leaves stay valid, the bundle keeps the old root for the grace period', { skip: KEYRING_SKIP }, async () => {
  let now = Date.now();
  const t = await setup(() => now);
  try {
    const { ca: oldCa } = await ensureRootCa(t.options);
    const oldIssuer = await createLeafIssuer(oldCa, { clock: () => now });
    const oldLeaf = oldIssuer.leafFor('live.example.test');
    const { ca: newCa, retiredSerial } = await rotateRootCa(t.options);
    assert.equal(retiredSerial, oldCa.serial);
    assert.notEqual(newCa.serial, oldCa.serial);
    assert.equal(await t.keyStore.get(`ca:${oldCa.serial}`), null, 'the retired key left the keychain');
    // Live tunnels hold leaf objects minted before: they are untouched and still chain to the old root.
    assert.ok(new X509Certificate(oldLeaf.certPem).verify(oldCa.certificate.publicKey));
    assert.equal(oldIssuer.leafFor('live.example.test'), oldLeaf);
    const newLeaf = (await createLeafIssuer(newCa)).leafFor('live.example.test');
    assert.ok(new X509Certificate(newLeaf.certPem).verify(newCa.certificate.publicKey));
    // Both roots are in the exported bundle.
    const { path, serials } = await exportCaBundle(t.options);
    assert.equal(path, defaultBundlePath(t.home.dataDir));
    assert.deepEqual(serials, [newCa.serial, oldCa.serial]);
    const pem = await readFile(path, 'utf8');
    assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    const out = join(t.home.home, 'custom.pem');
    assert.equal((await exportCaBundle(t.options, out)).path, out);
    assert.equal(await readFile(out, 'utf8'), pem);
    // After the grace period (30 days) the old root leaves the bundle.
    now += 31 * DAY;
    assert.deepEqual((await caBundlePem(t.options)).serials, [newCa.serial]);
  } finally {
    await t.done();
  }
});
