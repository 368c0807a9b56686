// `cordon keys|dpop|ca ...` run in-process against the real keychain, under a private
// CORDON_HOME and keychain service.
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { main } from '../../app/cli/main.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { readKeysFile, keychainAccount } from '../../app/identity/keyRecords.ts';
import { createDpopVerifier } from '../../app/identity/dpop/verify.ts';
import { KEYRING_SKIP, tempHome, type TestHome } from './helpers.ts';

let home: TestHome;
const service = `dev.cordon.test.cli.${randomBytes(6).toString('hex')}`;

before(async () => {
  home = await tempHome();
});

after(async () => {
  if (!KEYRING_SKIP) {
    const store = createOsKeyStore({ service });
    for (const record of (await readKeysFile(home.dataDir)).keys) await store.delete(keychainAccount(record)).catch(() => false);
    const state = JSON.parse(await readFile(join(home.dataDir, 'ca', 'ca.json'), 'utf8').catch(() => '{}')) as { current?: { serial: string } };
    if (state.current) await store.delete(`ca:${state.current.serial}`).catch(() => false);
  }
  await home.cleanup();
});

async function cordon(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr, env: { ...process.env, CORDON_HOME: home.home, CORDON_KEYCHAIN_SERVICE: service }, cwd: home.home });
  return { code, out, err };
}

test('cordon dpop proof: prints one proof that jose and Cordon’s verifier accept; the key appears in keys list', { skip: KEYRING_SKIP }, async () => {
  const r = await cordon('dpop', 'proof', '--agent', 'claude-code', '--htm', 'POST', '--htu', 'https://as.example.com/token?q=1', '--ath-token', 'tok', '--nonce', 'n-1');
  assert.equal(r.code, 0, r.err);
  const proof = r.out.trim();
  assert.equal(proof.split('\n').length, 1);
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
  assert.equal(payload.htu, 'https://as.example.com/token');
  assert.equal(payload.nonce, 'n-1');
  const jkt = await calculateJwkThumbprint(protectedHeader.jwk!);
  const verified = await createDpopVerifier().verify({ method: 'POST', url: 'https://as.example.com/token', headers: { authorization: 'DPoP tok', dpop: proof }, expectedJkt: jkt });
  assert.equal(verified.ok, true);

  const list = await cordon('keys', 'list', '--json');
  assert.equal(list.code, 0, list.err);
  const keys = JSON.parse(list.out) as Array<{ agent: string; thumbprint: string; alg: string; kind: string; lastUsed: string | null }>;
  const mine = keys.find((k) => k.kind === 'claude-code');
  assert.ok(mine);
  assert.match(mine.agent, /^claude-code@/);
  assert.equal(mine.thumbprint, jkt);
  assert.equal(mine.alg, 'ES256');
  assert.ok(mine.lastUsed, 'the signature was recorded');
  const table = await cordon('keys', 'list');
  assert.match(table.out, /AGENT\s+ALG\s+THUMBPRINT \(RFC 7638\)\s+CREATED\s+LAST USED/);
  assert.ok(table.out.includes(jkt));
  assert.ok(!list.out.includes('"d"'), 'no private key material in the listing');

  // Same agent again: same key.
  const again = await cordon('dpop', 'proof', '--agent', mine.agent, '--htm', 'GET', '--htu', 'https://rs.example.com/');
  const { protectedHeader: h2 } = await jwtVerify(again.out.trim(), EmbeddedJWK, { typ: 'dpop+jwt' });
  assert.equal(await calculateJwkThumbprint(h2.jwk!), jkt);
});

test('cordon keys rotate and keys remove', { skip: KEYRING_SKIP }, async () => {
  assert.equal((await cordon('dpop', 'proof', '--agent', 'codex', '--alg', 'EdDSA', '--htm', 'GET', '--htu', 'https://x.example/')).code, 0);
  const before = JSON.parse((await cordon('keys', 'list', '--json')).out) as Array<{ kind: string; thumbprint: string; alg: string }>;
  const codex = before.find((k) => k.kind === 'codex');
  assert.equal(codex?.alg, 'EdDSA');
  const rotated = await cordon('keys', 'rotate', '--agent', 'codex');
  assert.equal(rotated.code, 0, rotated.err);
  assert.ok(rotated.out.includes(`${codex?.thumbprint} -> `));
  const after = JSON.parse((await cordon('keys', 'list', '--json')).out) as Array<{ kind: string; thumbprint: string }>;
  assert.notEqual(after.find((k) => k.kind === 'codex')?.thumbprint, codex?.thumbprint);
  assert.equal(after.find((k) => k.kind === 'claude-code')?.thumbprint, before.find((k) => k.kind === 'claude-code')?.thumbprint);

  const removed = await cordon('keys', 'remove', '--agent', 'codex');
  assert.equal(removed.code, 0, removed.err);
  assert.match(removed.out, /^removed codex@/);
  assert.equal((await cordon('keys', 'remove', '--agent', 'codex')).code, 1);
  const missing = await cordon('keys', 'rotate', '--agent', 'codex');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /ERR_KEY_NOT_FOUND/);
});

test('cordon keys/dpop: usage mistakes exit 2 with the usage line', async () => {
  for (const argv of [
    ['dpop', 'proof', '--htm', 'GET', '--htu', 'https://x.example/'],
    ['dpop', 'proof', '--agent', 'x', '--htm', 'GET'],
    ['dpop', 'proof', '--agent', 'x', '--htm', 'GET', '--htu', 'https://x.example/', '--alg', 'HS256'],
    ['keys', 'remove'],
  ]) {
    const r = await cordon(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /usage: cordon /);
  }
});

test('cordon ca show, export and rotate', { skip: KEYRING_SKIP }, async () => {
  const show = await cordon('ca', 'show', '--json');
  assert.equal(show.code, 0, show.err);
  const info = JSON.parse(show.out) as { serial: string; sha256: string; created: boolean; bundle: string; certificate: string };
  assert.equal(info.created, true);
  const cert = new X509Certificate(await readFile(info.certificate, 'utf8'));
  assert.equal(cert.fingerprint256, info.sha256);
  const human = await cordon('ca', 'show');
  assert.match(human.out, new RegExp(`serial:\\s+${info.serial}`));

  const exported = await cordon('ca', 'export', '--out', 'trust.pem');
  assert.equal(exported.code, 0, exported.err);
  assert.equal(exported.out.trim(), join(home.home, 'trust.pem'));
  assert.match(exported.err, /NODE_EXTRA_CA_CERTS=/);
  assert.ok((await readFile(join(home.home, 'trust.pem'), 'utf8')).includes('BEGIN CERTIFICATE'));
  assert.equal((await cordon('ca', 'export')).out.trim(), info.bundle);

  const rotated = await cordon('ca', 'rotate', '--json');
  assert.equal(rotated.code, 0, rotated.err);
  const r = JSON.parse(rotated.out) as { serial: string; retiredSerial: string; bundleSerials: string[] };
  assert.equal(r.retiredSerial, info.serial);
  assert.deepEqual(r.bundleSerials, [r.serial, info.serial]);
  assert.equal((await readFile(info.bundle, 'utf8')).match(/BEGIN CERTIFICATE/g)?.length, 2, 'the default bundle was rewritten with both roots');
});
