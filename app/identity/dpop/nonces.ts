/**
 * Server-issued DPoP nonces: an interface a shared database can implement, and a bounded
 * in-memory implementation. A scope (the verifier uses the proof key's thumbprint) that was
 * given a nonce must send a valid one from then on.
 * @see RFC 9449 §8 and §9
 */
import { randomBytes } from 'node:crypto';

export type NonceStore = Readonly<{
  /** A new unpredictable nonce for scope, remembered until it expires. */
  issue(scope: string, now: number): string | Promise<string>;
  /** True when nonce was issued for scope and has not expired. */
  isValid(scope: string, nonce: string, now: number): boolean | Promise<boolean>;
  /** True when scope was issued a nonce recently, so a proof without one must be refused. */
  isRequired(scope: string, now: number): boolean | Promise<boolean>;
}>;

export type MemoryNonceStoreOptions = Readonly<{
  /** Lifetime of one nonce (default 300 s). */
  ttlSeconds?: number;
  /** How long after the last issue a scope keeps requiring nonces (default 24 h). */
  stickySeconds?: number;
  /** Nonces remembered per scope, newest first (default 3: a client racing a rotation still passes). */
  perScope?: number;
  /** Scopes remembered at once; the least recently issued is forgotten first (default 10,000). */
  maxScopes?: number;
}>;

/** The in-memory store answers synchronously (it still satisfies the async-capable NonceStore). */
export type MemoryNonceStore = Readonly<{
  issue(scope: string, now: number): string;
  isValid(scope: string, nonce: string, now: number): boolean;
  isRequired(scope: string, now: number): boolean;
}>;

type Scope = { nonces: Array<{ value: string; expiresAt: number }>; lastIssued: number };

export function createMemoryNonceStore(options: MemoryNonceStoreOptions = {}): MemoryNonceStore & NonceStore {
  const ttl = (options.ttlSeconds ?? 300) * 1000;
  const sticky = (options.stickySeconds ?? 86_400) * 1000;
  const perScope = options.perScope ?? 3;
  const maxScopes = options.maxScopes ?? 10_000;
  const scopes = new Map<string, Scope>();

  return {
    issue(scope, now) {
      const value = randomBytes(24).toString('base64url');
      const entry = scopes.get(scope) ?? { nonces: [], lastIssued: now };
      scopes.delete(scope);
      entry.nonces = [{ value, expiresAt: now + ttl }, ...entry.nonces.filter((n) => n.expiresAt > now)].slice(0, perScope);
      entry.lastIssued = now;
      scopes.set(scope, entry);
      while (scopes.size > maxScopes) {
        const oldest = scopes.keys().next().value;
        if (oldest === undefined) break;
        scopes.delete(oldest);
      }
      return value;
    },
    isValid(scope, nonce, now) {
      const entry = scopes.get(scope);
      return entry !== undefined && entry.nonces.some((n) => n.value === nonce && n.expiresAt > now);
    },
    isRequired(scope, now) {
      const entry = scopes.get(scope);
      return entry !== undefined && now - entry.lastIssued < sticky;
    },
  };
}
