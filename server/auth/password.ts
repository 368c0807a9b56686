/**
 * Console passwords: scrypt (RFC 7914) with a random salt, N=2^15, r=8, p=1 (about 32 MiB and
 * tens of milliseconds per hash, so a stolen database is slow to attack), stored as
 * `scrypt$N$r$p$salt$hash`. Verification is constant-time, and the number of hashes computed at
 * once is capped so a flood of sign-in attempts cannot exhaust the server's memory.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Hashes running at once; more wait, and past MAX_WAITING the caller is told to retry later. */
const MAX_CONCURRENT = 4;
const MAX_WAITING = 64;

export class PasswordHashBusy extends Error {
  constructor() {
    super('too many sign-in attempts are being checked; try again shortly');
    this.name = 'PasswordHashBusy';
  }
}

let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) {
    if (waiting.length >= MAX_WAITING) throw new PasswordHashBusy();
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return limited(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
      }),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when password matches stored; a malformed stored value never matches (and never throws). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, nText, rText, pText, saltText, keyText] = parts;
  const n = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  const wellFormed =
    parts.length === 6 && scheme === 'scrypt' && Number.isInteger(Math.log2(n)) && n >= 1024 && n <= 1 << 20 && r >= 1 && r <= 32 && p >= 1 && p <= 4 && saltText !== undefined && keyText !== undefined;
  // A malformed hash still costs one derivation, so its timing does not stand out.
  const salt = wellFormed ? Buffer.from(saltText, 'base64url') : randomBytes(SALT_BYTES);
  const expected = wellFormed ? Buffer.from(keyText, 'base64url') : Buffer.alloc(KEY_BYTES);
  const key = await derive(password, salt, wellFormed ? n : N, wellFormed ? r : R, wellFormed ? p : P);
  return wellFormed && expected.length === key.length && timingSafeEqual(expected, key);
}

/** A hash of a random password: checked when the username is unknown, so timing does not tell. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}

/** Whether stored was made with weaker parameters than today's (re-hash at next sign-in). */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split('$');
  return scheme !== 'scrypt' || Number(n) < N || Number(r) < R || Number(p) < P;
}
