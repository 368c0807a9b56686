// The OS KeyStore against the real Secret Service (gnome-keyring started by scripts/run-tests.ts),
// and its refusal to work, with a clear error, when no Secret Service is reachable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { KEYRING_SKIP, testKeyStore } from './helpers.ts';

test('KeyStore: set, get, replace and delete a secret in the OS keychain', { skip: KEYRING_SKIP }, async () => {
  const store = testKeyStore();
  try {
    assert.equal(await store.get('dpop:absent'), null);
    await store.set('dpop:k1', '{"kty":"EC","d":"secret-1"}');
    assert.equal(await store.get('dpop:k1'), '{"kty":"EC","d":"secret-1"}');
    await store.set('dpop:k1', 'secret-2');
    assert.equal(await store.get('dpop:k1'), 'secret-2');
    // Another store object (as another process would open) sees the same entry.
    assert.equal(await createOsKeyStore({ service: store.service }).get('dpop:k1'), 'secret-2');
    // A different service name is a different namespace.
    assert.equal(await createOsKeyStore({ service: `${store.service}.other` }).get('dpop:k1'), null);
    assert.equal(await store.delete('dpop:k1'), true);
    assert.equal(await store.delete('dpop:k1'), false);
    assert.equal(await store.get('dpop:k1'), null);
  } finally {
    await store.purge();
  }
});

test('KeyStore: bad service and account names are refused before reaching the keychain', () => {
  assert.throws(() => createOsKeyStore({ service: 'bad service' }), /invalid keychain service/);
  const store = createOsKeyStore({ service: 'dev.cordon.test.names' });
  return assert.rejects(store.get('bad account\n'), /invalid keychain account/);
});

test('KeyStore on Linux: no reachable Secret Service is ERR_KEYCHAIN_UNAVAILABLE, never a silent fallback', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-nodbus-'));
  try {
    const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../app/identity/keyStore.ts')).href;
    const script = `
      const { createOsKeyStore } = await import(${JSON.stringify(moduleUrl)});
      const store = createOsKeyStore({ service: 'dev.cordon.test.nodbus' });
      const out = {};
      for (const [op, fn] of [['set', () => store.set('dpop:x', 'v')], ['get', () => store.get('dpop:x')], ['delete', () => store.delete('dpop:x')]]) {
        try { out[op] = { ok: true, value: await fn() }; }
        catch (e) { out[op] = { ok: false, name: e.name, code: e.code, message: e.message }; }
      }
      process.stdout.write(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-such-socket')}`, XDG_RUNTIME_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout) as Record<string, { ok: boolean; name?: string; code?: string; message?: string }>;
    for (const op of ['set', 'get', 'delete']) {
      const r = out[op];
      assert.ok(r && !r.ok, `${op} must fail, not fall back to another store`);
      assert.equal(r.name, 'CoreError');
      assert.equal(r.code, 'ERR_KEYCHAIN_UNAVAILABLE');
      assert.match(r.message ?? '', /OS keychain unavailable/);
      assert.match(r.message ?? '', /Secret Service/);
      assert.ok(!(r.message ?? '').includes("'v'"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
