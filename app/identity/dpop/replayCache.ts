/**
 * The jti replay cache the DPoP verifier consults: an interface a shared database can implement
 * (the fleet server runs several processes), and a bounded in-memory implementation.
 * @see RFC 9449 §11.1
 */

/** What recording a proof id did: stored it, found it already there, or had no room. */
export type ReplayOutcome = 'fresh' | 'replay' | 'full';

export type ReplayCache = Readonly<{
  /**
   * Records id until expiresAt (ms since the epoch), atomically: 'replay' when it is already
   * recorded and not yet expired. Implementations may return a promise.
   */
  record(id: string, expiresAt: number, now: number): ReplayOutcome | Promise<ReplayOutcome>;
}>;

export type MemoryReplayCacheOptions = Readonly<{
  /** Most ids held at once (default 100,000). When full of live ids, new proofs are refused. */
  maxEntries?: number;
}>;

/**
 * One process's replay cache. Ids are kept until their expiry; a sweep of expired ids runs when
 * the map reaches its bound, so memory stays bounded and a flood fails closed ('full') instead of
 * forgetting live ids.
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): ReplayCache & Readonly<{ record(id: string, expiresAt: number, now: number): ReplayOutcome; size(): number }> {
  const maxEntries = options.maxEntries ?? 100_000;
  const seen = new Map<string, number>();
  let nextSweep = 0;
  let lastSweep = 0;

  const sweep = (now: number): void => {
    for (const [id, expiresAt] of seen) if (expiresAt <= now) seen.delete(id);
  };

  return {
    record(id, expiresAt, now) {
      const existing = seen.get(id);
      if (existing !== undefined) {
        if (existing > now) return 'replay';
        seen.delete(id);
      }
      if (now >= nextSweep || (seen.size >= maxEntries && now - lastSweep >= 1_000)) {
        // Periodic sweep, plus at most one per second while full (a flood must not make every
        // request walk the whole map).
        sweep(now);
        lastSweep = now;
        nextSweep = now + 60_000;
      }
      if (seen.size >= maxEntries) return 'full';
      seen.set(id, expiresAt);
      return 'fresh';
    },
    size: () => seen.size,
  };
}
