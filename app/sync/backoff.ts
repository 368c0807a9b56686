/**
 * Retry timing for the sync client: exponential backoff with "equal jitter" (half fixed, half
 * random) so a fleet that lost its server does not come back in lockstep, and a jittered regular
 * interval for the same reason.
 */

export type BackoffOptions = Readonly<{ baseMs: number; maxMs: number }>;

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 10 * 60_000 };

/** Delay before attempt number `failures + 1` (failures >= 1). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The regular sync interval, +-10%. */
export function jitteredInterval(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (0.9 + random() * 0.2));
}
