/**
 * When to warn that the console session is about to end. The server ends a session after
 * `idleMinutes` without an authenticated request, or at `expiresAt` whatever happens. It records
 * activity at most once a minute, so the console counts from a minute before its own last
 * successful call: it never believes the session lasts longer than the server does.
 */

/** The warning shows this long before the session ends. */
export const WARN_BEFORE_MS = 2 * 60_000;
/** The server refreshes a session's last-seen time at most this often (server/store/accounts.ts). */
export const SERVER_TOUCH_SLACK_MS = 60_000;

export type SessionWarning =
  | { readonly kind: 'none' }
  /** Ends at `endsAt` unless there is activity ("Stay signed in" is activity). */
  | { readonly kind: 'idle'; readonly endsAt: number }
  /** Ends at `endsAt` whatever happens: the session's absolute lifetime. */
  | { readonly kind: 'limit'; readonly endsAt: number }
  | { readonly kind: 'ended' };

export function sessionWarning(now: number, lastActivity: number, idleMinutes: number, expiresAt: number): SessionWarning {
  const idleEnd = lastActivity + idleMinutes * 60_000 - SERVER_TOUCH_SLACK_MS;
  const end = Math.min(idleEnd, expiresAt);
  if (now >= end) return { kind: 'ended' };
  if (end - now > WARN_BEFORE_MS) return { kind: 'none' };
  return end === expiresAt ? { kind: 'limit', endsAt: end } : { kind: 'idle', endsAt: end };
}

/** "1 min 5 s", "45 s". */
export function timeLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}
