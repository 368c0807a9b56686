import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCredentialStore } from '../../app/identity/credentials.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';

const service = `cordon-test-cred-${process.pid}`;

test('a credential is sent only to its hosts; the token never lands on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-cred-'));
  try {
    const store = createCredentialStore(createOsKeyStore({ service }), dir);
    await store.set('github', 'tok-123-secret', ['api.github.com', '*.githubusercontent.com']);
    assert.equal(await store.tokenFor('github', 'api.github.com'), 'tok-123-secret');
    assert.equal(await store.tokenFor('github', 'raw.githubusercontent.com'), 'tok-123-secret');
    assert.equal(await store.tokenFor('github', 'githubusercontent.com'), null);
    assert.equal(await store.tokenFor('github', 'evil.example'), null);
    assert.equal(await store.tokenFor('nope', 'api.github.com'), null);
    assert.ok(!readFileSync(join(dir, 'credentials.json'), 'utf8').includes('tok-123-secret'));
    assert.deepEqual((await store.list()).map((c) => c.name), ['github']);
    assert.equal(await store.remove('github'), true);
    assert.equal(await store.tokenFor('github', 'api.github.com'), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad names, hosts and tokens are refused with a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-cred-'));
  try {
    const store = createCredentialStore(createOsKeyStore({ service }), dir);
    await assert.rejects(store.set('bad name', 't', ['a.example']), /credential name/);
    await assert.rejects(store.set('ok', 't', []), /at least one/);
    await assert.rejects(store.set('ok', 't', ['http://a.example']), /invalid host/);
    await assert.rejects(store.set('ok', 'two\nlines', ['a.example']), /one non-empty line/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cordon credentials set reads the token from stdin and list never prints it', () => {
  const home = mkdtempSync(join(tmpdir(), 'cordon-cred-cli-'));
  try {
    const env = { ...process.env, CORDON_HOME: home, CORDON_KEYCHAIN_SERVICE: service };
    const bin = new URL('../../bin/cordon.js', import.meta.url).pathname;
    const set = spawnSync(process.execPath, [bin, 'credentials', 'set', '--name', 'upstream', '--host', 'api.example.com'], { env, input: 'cli-token-value\n', encoding: 'utf8' });
    assert.equal(set.status, 0, set.stderr);
    const list = spawnSync(process.execPath, [bin, 'credentials', 'list', '--json'], { env, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((c: { name: string; hosts: string[] }) => [c.name, c.hosts]), [['upstream', ['api.example.com']]]);
    assert.ok(!list.stdout.includes('cli-token-value'));
    const rm = spawnSync(process.execPath, [bin, 'credentials', 'remove', '--name', 'upstream'], { env, encoding: 'utf8' });
    assert.equal(rm.status, 0, rm.stderr);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
