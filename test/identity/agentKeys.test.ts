// The key manager against the real keychain: first use, reload, rotation, removal, lastUsed
// throttling, and what happens when keychain and keys.json disagree.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { EmbeddedJWK, jwtVerify } from 'jose';
import { agentIdentity, agentIdentityId, executableTag, parseAgentSelector } from '../../app/identity/agentIdentity.ts';
import { createAgentKeyManager, removeAgentKeys, type AgentKeyManagerOptions } from '../../app/identity/agentKeys.ts';
import { createDpopProof } from '../../app/identity/dpop/proof.ts';
import { keysFilePath } from '../../app/identity/keyRecords.ts';
import { KEYRING_SKIP, tempHome, testKeyStore } from './helpers.ts';

async function setup(extra: Partial<AgentKeyManagerOptions> = {}) {
  const home = await tempHome();
  const keyStore = testKeyStore();
  const options: AgentKeyManagerOptions = { keyStore, dataDir: home.dataDir, user: 'alice', ...extra };
  return {
    home,
    keyStore,
    options,
    manager: createAgentKeyManager(options),
    async done() {
      await keyStore.purge();
      await home.cleanup();
    },
  };
}

const claude = agentIdentity('claude-code', { executable: '/usr/local/bin/claude', user: 'alice' });

test('identity ids: kind, executable tag, instance and user', () => {
  assert.equal(agentIdentityId(agentIdentity('claude-code', { user: 'alice' })), 'claude-code@alice');
  assert.equal(agentIdentityId(claude), `claude-code:${executableTag('/usr/local/bin/claude')}@alice`);
  assert.equal(agentIdentityId(agentIdentity('codex', { executable: '/x/codex', user: 'bob', instance: '4242' })), `codex:${executableTag('/x/codex')}#4242@bob`);
  assert.throws(() => agentIdentity('bad kind'), /invalid agent id/);
  assert.throws(() => agentIdentity('x', { instance: 'a b' }), /instance/);
  assert.deepEqual(parseAgentSelector('claude-code', 'alice').identity, agentIdentity('claude-code', { user: 'alice' }));
  assert.equal(parseAgentSelector('claude-code@alice', 'alice').isExactId, true);
  assert.throws(() => parseAgentSelector('', 'alice'), /empty/);
});

test('keys: created on first use, private half only in the keychain, reloaded by another process', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const signer = await t.manager.signerFor(claude);
    assert.equal(signer.alg, 'ES256');
    assert.equal((await t.manager.signerFor(claude)).jkt, signer.jkt, 'the same identity gets the same key');
    const text = await readFile(keysFilePath(t.home.dataDir), 'utf8');
    assert.ok(!/"d"\s*:/.test(text), 'keys.json holds no private key member');
    assert.equal((await stat(keysFilePath(t.home.dataDir))).mode & 0o777, 0o600);
    const stored = await t.keyStore.get(`dpop:${signer.keyId}`);
    assert.ok(stored && JSON.parse(stored).d, 'the private JWK is in the keychain');
    // A second manager (a new CLI process, the daemon after restart) loads the same key from the keychain.
    const second = createAgentKeyManager(t.options);
    const reloaded = await second.signerFor(claude);
    assert.equal(reloaded.jkt, signer.jkt);
    const proof = createDpopProof(reloaded, { htm: 'GET', htu: 'https://x.example/' });
    await second.flush();
    const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    assert.equal(protectedHeader.jwk?.x, signer.publicJwk.x);
    const [record] = await t.manager.list();
    assert.equal(record?.ownerId, agentIdentityId(claude));
    assert.equal(record?.thumbprint, signer.jkt);
    const ed = await t.manager.signerFor(agentIdentity('gemini-cli', { user: 'alice' }), { alg: 'EdDSA' });
    assert.equal(ed.alg, 'EdDSA');
    assert.equal(ed.publicJwk.crv, 'Ed25519');
  } finally {
    await t.done();
  }
});

test('keys: concurrent first uses of one identity create exactly one key', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const other = createAgentKeyManager(t.options);
    const signers = await Promise.all([t.manager.signerFor(claude), t.manager.signerFor(claude), other.signerFor(claude), other.signerFor(claude)]);
    assert.equal(new Set(signers.map((s) => s.jkt)).size, 1);
    assert.equal((await t.manager.list()).length, 1);
  } finally {
    await t.done();
  }
});

test('keys: lastUsed is written at most once per interval, and on flush', { skip: KEYRING_SKIP }, async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const t = await setup({ clock: () => now, lastUsedWriteIntervalMs: 60_000 });
  try {
    const signer = await t.manager.signerFor(claude);
    const before = await stat(keysFilePath(t.home.dataDir));
    signer.sign(Buffer.from('a')); // first use: queues one write
    // The write is asynchronous: poll (bounded) instead of guessing how long a loaded machine takes.
    let first = { keys: [] as Array<{ lastUsed: string | null }> };
    for (let i = 0; i < 100 && first.keys[0]?.lastUsed == null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      first = JSON.parse(await readFile(keysFilePath(t.home.dataDir), 'utf8')) as typeof first;
    }
    assert.equal(first.keys[0]?.lastUsed, '2030-01-01T00:00:00.000Z');
    const afterFirst = await stat(keysFilePath(t.home.dataDir));
    assert.notEqual(afterFirst.mtimeMs + afterFirst.ino, before.mtimeMs + before.ino);
    for (let i = 0; i < 200; i++) {
      now += 100;
      signer.sign(Buffer.from('b'));
    }
    await new Promise((r) => setTimeout(r, 50));
    const unchanged = JSON.parse(await readFile(keysFilePath(t.home.dataDir), 'utf8')) as { keys: Array<{ lastUsed: string | null }> };
    assert.equal(unchanged.keys[0]?.lastUsed, '2030-01-01T00:00:00.000Z', '200 signatures within 20 s: no write');
    assert.equal((await t.manager.list())[0]?.lastUsed, '2030-01-01T00:00:20.000Z', 'list() shows the in-memory time');
    await t.manager.flush();
    const flushed = JSON.parse(await readFile(keysFilePath(t.home.dataDir), 'utf8')) as { keys: Array<{ lastUsed: string | null }> };
    assert.equal(flushed.keys[0]?.lastUsed, '2030-01-01T00:00:20.000Z');
  } finally {
    await t.done();
  }
});

test('keys rotate: new key pair per identity, old keychain entry deleted', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const a = await t.manager.signerFor(claude);
    const b = await t.manager.signerFor(agentIdentity('codex', { user: 'alice' }));
    const device = await t.manager.deviceSigner();
    const rotated = await t.manager.rotate({ agent: parseAgentSelector('claude-code', 'alice') });
    assert.equal(rotated.length, 1);
    assert.equal(rotated[0]?.oldThumbprint, a.jkt);
    const a2 = await t.manager.signerFor(claude);
    assert.notEqual(a2.jkt, a.jkt);
    assert.equal(rotated[0]?.newThumbprint, a2.jkt);
    assert.equal(await t.keyStore.get(`dpop:${a.keyId}`), null, 'the old private key left the keychain');
    assert.equal((await t.manager.signerFor(agentIdentity('codex', { user: 'alice' }))).jkt, b.jkt, 'other agents untouched');
    const all = await t.manager.rotate();
    assert.deepEqual(all.map((r) => r.ownerId).sort(), [agentIdentityId(claude), 'codex@alice'].sort());
    assert.equal((await t.manager.deviceSigner()).jkt, device.jkt, 'the device key rotates only on request');
    const dev = await t.manager.rotate({ device: true });
    assert.equal(dev.length, 1);
    assert.notEqual((await t.manager.deviceSigner()).jkt, device.jkt);
    await assert.rejects(t.manager.rotate({ agent: parseAgentSelector('cursor', 'alice') }), { code: 'ERR_KEY_NOT_FOUND' });
  } finally {
    await t.done();
  }
});

test('removeAgentKeys: the daemon removes an uninstalled agent’s keys (agent.removed)', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const a = await t.manager.signerFor(claude);
    const inst = await t.manager.signerFor(agentIdentity('claude-code', { executable: '/usr/local/bin/claude', user: 'alice', instance: '77' }));
    const kindOnly = await t.manager.signerFor(agentIdentity('claude-code', { user: 'alice' }));
    const otherInstall = await t.manager.signerFor(agentIdentity('claude-code', { executable: '/opt/claude/bin/claude', user: 'alice' }));
    const removed = await removeAgentKeys(t.manager, { kind: 'claude-code', path: '/usr/local/bin/claude' });
    assert.deepEqual(removed.map((r) => r.thumbprint).sort(), [a.jkt, inst.jkt].sort());
    assert.equal(await t.keyStore.get(`dpop:${a.keyId}`), null);
    assert.equal(await t.keyStore.get(`dpop:${inst.keyId}`), null);
    assert.deepEqual((await t.manager.list()).map((r) => r.thumbprint).sort(), [kindOnly.jkt, otherInstall.jkt].sort());
    assert.deepEqual(await removeAgentKeys(t.manager, { kind: 'claude-code', path: '/usr/local/bin/claude' }), []);
  } finally {
    await t.done();
  }
});

test('keys: a missing or mismatched keychain entry is a clear error, never a silent new key', { skip: KEYRING_SKIP }, async () => {
  const t = await setup();
  try {
    const a = await t.manager.signerFor(claude);
    await t.keyStore.delete(`dpop:${a.keyId}`);
    await assert.rejects(createAgentKeyManager(t.options).signerFor(claude), { code: 'ERR_KEY_NOT_FOUND', message: /keys rotate/ });
    const other = await t.manager.signerFor(agentIdentity('codex', { user: 'alice' }));
    await t.keyStore.set(`dpop:${a.keyId}`, (await t.keyStore.get(`dpop:${other.keyId}`)) ?? '');
    await assert.rejects(createAgentKeyManager(t.options).signerFor(claude), { code: 'ERR_KEY_CORRUPT' });
    await t.keyStore.set(`dpop:${a.keyId}`, 'not json');
    await assert.rejects(createAgentKeyManager(t.options).signerFor(claude), { code: 'ERR_KEY_CORRUPT' });
    // Rotation repairs it.
    await t.manager.rotate({ agent: parseAgentSelector(agentIdentityId(claude), 'alice') });
    assert.ok((await createAgentKeyManager(t.options).signerFor(claude)).jkt);
  } finally {
    await t.done();
  }
});
