/**
 * Database-backed DPoP replay cache and nonce store (the interfaces of app/identity/dpop), so
 * every server process on one database refuses a proof another process already accepted and
 * accepts a nonce another process issued. Expired rows are swept in the background.
 * @see RFC 9449 §11.1 (replay), §8-9 (nonces)
 */
import { randomBytes } from 'node:crypto';
import type { NonceStore } from '../../app/identity/dpop/nonces.ts';
import type { ReplayCache, ReplayOutcome } from '../../app/identity/dpop/replayCache.ts';
import type { SqlDriver } from './driver.ts';

export type DpopStoreOptions = Readonly<{
  /** Lifetime of a nonce (default 600 s). */
  nonceTtlSeconds?: number;
  /** Nonces kept per key, newest first (default 3: a client racing a rotation still passes). */
  noncesPerKey?: number;
}>;

export type DpopStores = Readonly<{
  replayCache: ReplayCache;
  nonceStore: NonceStore;
  /** Deletes expired replay ids and nonces; returns how many rows went. */
  sweep(now: number): Promise<number>;
}>;

const SWEEP_INTERVAL_MS = 60_000;

export function createDpopStores(driver: SqlDriver, options: DpopStoreOptions = {}): DpopStores {
  const ttl = (options.nonceTtlSeconds ?? 600) * 1000;
  const perKey = options.noncesPerKey ?? 3;
  let nextSweep = 0;

  const sweep = async (now: number): Promise<number> => {
    const a = await driver.run('DELETE FROM dpop_replay WHERE expires_at <= ?', [now]);
    const b = await driver.run('DELETE FROM dpop_nonces WHERE expires_at <= ?', [now]);
    return a.changes + b.changes;
  };
  const maybeSweep = (now: number): void => {
    if (now < nextSweep) return;
    nextSweep = now + SWEEP_INTERVAL_MS;
    sweep(now).catch(() => undefined);
  };

  const replayCache: ReplayCache = {
    async record(id, expiresAt, now): Promise<ReplayOutcome> {
      maybeSweep(now);
      // Atomic in both databases: a live id makes the conditional update a no-op (0 rows).
      const result = await driver.run(
        'INSERT INTO dpop_replay (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_replay.expires_at <= ?',
        [id, expiresAt, now],
      );
      return result.changes > 0 ? 'fresh' : 'replay';
    },
  };

  const nonceStore: NonceStore = {
    async issue(scope, now) {
      const value = randomBytes(24).toString('base64url');
      await driver.run('INSERT INTO dpop_nonces (scope, value, expires_at) VALUES (?, ?, ?)', [scope, value, now + ttl]);
      await driver.run(
        'DELETE FROM dpop_nonces WHERE scope = ? AND (expires_at <= ? OR value NOT IN (SELECT value FROM dpop_nonces WHERE scope = ? ORDER BY expires_at DESC LIMIT ?))',
        [scope, now, scope, perKey],
      );
      return value;
    },
    async isValid(scope, nonce, now) {
      if (nonce.length > 256) return false;
      return (await driver.get('SELECT 1 AS ok FROM dpop_nonces WHERE scope = ? AND value = ? AND expires_at > ?', [scope, nonce, now])) !== undefined;
    },
    async isRequired(scope, now) {
      return (await driver.get('SELECT 1 AS ok FROM dpop_nonces WHERE scope = ? AND expires_at > ? LIMIT 1', [scope, now])) !== undefined;
    },
  };

  return { replayCache, nonceStore, sweep };
}
