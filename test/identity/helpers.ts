/**
 * Shared setup for identity tests: a private temp CORDON_HOME, a keychain service name no other
 * test file (or the developer's real keys) uses, and cleanup of every keychain entry written.
 */
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOsKeyStore, type KeyStore } from '../../app/identity/keyStore.ts';
import { createSigner } from '../../app/identity/signer.ts';
import type { Signer } from '../../app/identity/signer.ts';

/** Set by scripts/run-tests.ts inside its private D-Bus session with an unlocked gnome-keyring. */
export const HAS_TEST_KEYRING = process.env.CORDON_TEST_KEYRING === '1';
export const KEYRING_SKIP = HAS_TEST_KEYRING ? false : 'needs the test keyring: run via node scripts/run-tests.ts';

export type TestHome = Readonly<{ home: string; dataDir: string; cleanup(): Promise<void> }>;

export async function tempHome(): Promise<TestHome> {
  const home = await mkdtemp(join(tmpdir(), 'cordon-identity-'));
  return { home, dataDir: join(home, 'data'), cleanup: () => rm(home, { recursive: true, force: true }) };
}

/** A real OS keychain store under a unique service; purge() deletes whatever was written through it. */
export function testKeyStore(): KeyStore & Readonly<{ purge(): Promise<void>; accounts: Set<string> }> {
  const service = `dev.cordon.test.${randomBytes(6).toString('hex')}`;
  const inner = createOsKeyStore({ service });
  const accounts = new Set<string>();
  return {
    service,
    accounts,
    get: (account) => inner.get(account),
    async set(account, secret) {
      accounts.add(account);
      await inner.set(account, secret);
    },
    delete: (account) => inner.delete(account),
    async purge() {
      for (const account of accounts) await inner.delete(account).catch(() => false);
    },
  };
}

/** An in-memory ES256 or EdDSA signer (no keychain) for proof and verifier tests. */
export function memorySigner(alg: 'ES256' | 'EdDSA' = 'ES256'): Signer {
  const key = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;
  return createSigner(key, alg);
}
