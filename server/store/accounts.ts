/**
 * Console accounts for security staff: users with a role (viewer or admin) and a scrypt password
 * hash, sign-in with rate limiting, and server-side sessions. Everything lives in the database,
 * so several server processes share sessions and failure counts. The session cookie carries a
 * random token; the database keeps only its SHA-256, next to the session's CSRF token.
 *
 * Limits: 5 failed sign-ins per username and 30 per client address in 15 minutes, then 429 with
 * Retry-After. Sessions last at most 12 hours and end after 30 idle minutes; disabling a user or
 * changing their password ends their sessions.
 */
import { randomBytes } from 'node:crypto';
import { CONSOLE_ROLES, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN, type ConsoleRole, type ConsoleUserInfo, type NewConsoleUser } from '../../app/api/fleetConsole.ts';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from '../auth/password.ts';
import { iso, randomId, sha256 } from './credentials.ts';
import type { SqlDriver } from './driver.ts';

export const SIGNIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_USER = 5;
export const MAX_FAILURES_PER_ADDRESS = 30;
export const SESSION_LIFETIME_MS = 12 * 3600_000;
export const SESSION_IDLE_MS = 30 * 60_000;
const TOUCH_EVERY_MS = 60_000;
const USERNAME = new RegExp(USERNAME_PATTERN);

export type ConsolePrincipal = Readonly<{ userId: string; username: string; role: ConsoleRole; csrfToken: string; expiresAt: number }>;

export type SignInOutcome =
  | { ok: true; token: string; principal: ConsolePrincipal }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate-limited'; retryAfterSeconds: number };

/** A refused account change, with a message fit for the admin who asked. */
export class AccountError extends Error {
  readonly code: 'invalid' | 'exists' | 'last-admin';
  constructor(code: AccountError['code'], message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}

export type Accounts = Readonly<{
  createUser(user: NewConsoleUser, now: number): Promise<ConsoleUserInfo>;
  listUsers(): Promise<ConsoleUserInfo[]>;
  /** Disabling ends the user's sessions; the last enabled admin cannot be disabled. */
  setDisabled(id: string, disabled: boolean, now: number): Promise<ConsoleUserInfo | null>;
  /** Sets a new password (ends every session of the user); by id or username. */
  setPassword(idOrUsername: string, password: string, now: number): Promise<boolean>;
  signIn(username: string, password: string, address: string, now: number): Promise<SignInOutcome>;
  /** The principal of a valid session token, or null (unknown, expired, idle, user disabled). */
  session(token: string, now: number): Promise<ConsolePrincipal | null>;
  signOut(token: string): Promise<void>;
}>;

type UserRow = { id: string; username: string; password_hash: string; role: string; created_at: number; last_sign_in_at: number | null; disabled_at: number | null };
type SessionRow = { user_id: string; username: string; role: string; csrf_token: string; created_at: number; expires_at: number; last_seen_at: number; disabled_at: number | null };

export function checkNewPassword(password: string, username?: string): string | null {
  if (password.length < PASSWORD_MIN) return `the password must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `the password must be at most ${PASSWORD_MAX} characters`;
  if (username !== undefined && password.toLowerCase().includes(username.toLowerCase())) return 'the password must not contain the username';
  return null;
}

export function createAccounts(driver: SqlDriver): Accounts {
  const info = (r: UserRow): ConsoleUserInfo => ({
    id: r.id, username: r.username, role: r.role as ConsoleRole, createdAt: iso(r.created_at),
    lastSignInAt: r.last_sign_in_at === null ? null : iso(r.last_sign_in_at), disabledAt: r.disabled_at === null ? null : iso(r.disabled_at),
  });
  const userBy = (column: 'id' | 'username', value: string) =>
    driver.get<UserRow>(`SELECT id, username, password_hash, role, created_at, last_sign_in_at, disabled_at FROM console_users WHERE ${column} = ?`, [value]);
  const failures = async (key: string, now: number): Promise<{ count: number; oldest: number | null }> => {
    const row = await driver.get<{ n: number | string; oldest: number | string | null }>('SELECT count(*) AS n, min(at) AS oldest FROM signin_failures WHERE key = ? AND at > ?', [key, now - SIGNIN_WINDOW_MS]);
    return { count: Number(row?.n ?? 0), oldest: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest) };
  };

  return {
    async createUser(user, now) {
      const username = user.username.toLowerCase();
      if (!USERNAME.test(username)) throw new AccountError('invalid', 'the username must be 1-64 letters, digits, or . _ @ -');
      if (!CONSOLE_ROLES.includes(user.role)) throw new AccountError('invalid', `the role must be one of ${CONSOLE_ROLES.join(', ')}`);
      const weak = checkNewPassword(user.password, username);
      if (weak) throw new AccountError('invalid', weak);
      const hash = await hashPassword(user.password);
      const id = randomId('usr');
      const inserted = await driver.insertMany('console_users', ['id', 'username', 'password_hash', 'role', 'created_at', 'password_changed_at'], [[id, username, hash, user.role, now, now]], {
        onConflict: 'ON CONFLICT (username) DO NOTHING',
        returning: 'id',
      });
      if (inserted.length === 0) throw new AccountError('exists', `a user named ${username} already exists`);
      return info({ id, username, password_hash: hash, role: user.role, created_at: now, last_sign_in_at: null, disabled_at: null });
    },
    async listUsers() {
      const rows = await driver.all<UserRow>('SELECT id, username, password_hash, role, created_at, last_sign_in_at, disabled_at FROM console_users ORDER BY username');
      return rows.map(info);
    },
    async setDisabled(id, disabled, now) {
      return driver.transaction(async (tx) => {
        const user = await tx.get<UserRow>('SELECT id, username, password_hash, role, created_at, last_sign_in_at, disabled_at FROM console_users WHERE id = ?', [id]);
        if (!user) return null;
        if (disabled && user.role === 'admin' && user.disabled_at === null) {
          const admins = await tx.get<{ n: number | string }>("SELECT count(*) AS n FROM console_users WHERE role = 'admin' AND disabled_at IS NULL", []);
          if (Number(admins?.n ?? 0) <= 1) throw new AccountError('last-admin', 'the last enabled admin cannot be disabled');
        }
        await tx.run('UPDATE console_users SET disabled_at = ? WHERE id = ?', [disabled ? (user.disabled_at ?? now) : null, id]);
        if (disabled) await tx.run('DELETE FROM console_sessions WHERE user_id = ?', [id]);
        return info({ ...user, disabled_at: disabled ? (user.disabled_at ?? now) : null });
      });
    },
    async setPassword(idOrUsername, password, now) {
      const user = (await userBy('id', idOrUsername)) ?? (await userBy('username', idOrUsername.toLowerCase()));
      if (!user) return false;
      const weak = checkNewPassword(password, user.username);
      if (weak) throw new AccountError('invalid', weak);
      const hash = await hashPassword(password);
      await driver.transaction(async (tx) => {
        await tx.run('UPDATE console_users SET password_hash = ?, password_changed_at = ? WHERE id = ?', [hash, now, user.id]);
        await tx.run('DELETE FROM console_sessions WHERE user_id = ?', [user.id]);
      });
      return true;
    },
    async signIn(rawUsername, password, address, now) {
      const username = rawUsername.toLowerCase().slice(0, 64);
      const userKey = `user:${username}`;
      const addressKey = `addr:${address}`;
      await driver.run('DELETE FROM signin_failures WHERE at <= ?', [now - SIGNIN_WINDOW_MS]);
      for (const [key, max] of [[userKey, MAX_FAILURES_PER_USER], [addressKey, MAX_FAILURES_PER_ADDRESS]] as const) {
        const seen = await failures(key, now);
        if (seen.count >= max) return { ok: false, reason: 'rate-limited', retryAfterSeconds: Math.max(1, Math.ceil(((seen.oldest ?? now) + SIGNIN_WINDOW_MS - now) / 1000)) };
      }
      const user = USERNAME.test(username) ? await userBy('username', username) : undefined;
      const usable = user !== undefined && user.disabled_at === null;
      const matches = await verifyPassword(password, usable ? user.password_hash : await decoyHash());
      if (!usable || !matches) {
        await driver.insertMany('signin_failures', ['key', 'at'], [[userKey, now], [addressKey, now]]);
        return { ok: false, reason: 'invalid' };
      }
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      const expiresAt = now + SESSION_LIFETIME_MS;
      const rehash = needsRehash(user.password_hash) ? await hashPassword(password) : null;
      await driver.transaction(async (tx) => {
        await tx.run('DELETE FROM signin_failures WHERE key = ?', [userKey]);
        await tx.run('DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at <= ?', [now, now - SESSION_IDLE_MS]);
        await tx.run('INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)', [sha256(token), user.id, csrfToken, now, expiresAt, now]);
        await tx.run('UPDATE console_users SET last_sign_in_at = ? WHERE id = ?', [now, user.id]);
        if (rehash) await tx.run('UPDATE console_users SET password_hash = ? WHERE id = ?', [rehash, user.id]);
      });
      return { ok: true, token, principal: { userId: user.id, username: user.username, role: user.role as ConsoleRole, csrfToken, expiresAt } };
    },
    async session(token, now) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const row = await driver.get<SessionRow>(
        `SELECT s.user_id, u.username, u.role, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, u.disabled_at
         FROM console_sessions s JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = ?`,
        [sha256(token)],
      );
      if (!row || row.disabled_at !== null || row.expires_at <= now || row.last_seen_at <= now - SESSION_IDLE_MS) return null;
      if (now - row.last_seen_at >= TOUCH_EVERY_MS) await driver.run('UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?', [now, sha256(token)]);
      return { userId: row.user_id, username: row.username, role: row.role as ConsoleRole, csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
    },
    async signOut(token) {
      await driver.run('DELETE FROM console_sessions WHERE token_hash = ?', [sha256(token)]);
    },
  };
}
