/**
 * Enroll secrets (what IT pushes with MDM so devices can enroll) and admin API tokens. Both are
 * high-entropy random strings shown once; the database keeps only their SHA-256, so a database
 * leak does not hand out enrollment or admin access.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EnrollSecretInfo } from '../../app/api/sync.ts';
import type { SqlDriver, SqlExecutor } from './driver.ts';

export const ENROLL_SECRET_PREFIX = 'ces_';
export const ADMIN_TOKEN_PREFIX = 'cat_';
export const ACCESS_TOKEN_PREFIX = 'cdt_';

export type NewEnrollSecret = Readonly<{ label?: string; expiresAt?: number; maxUses?: number }>;

/** Why an enroll secret cannot be used (the server answers all of them the same way). */
export type EnrollSecretCheck = { ok: true; id: string } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' | 'used-up' };

export type Credentials = Readonly<{
  createEnrollSecret(options: NewEnrollSecret, now: number): Promise<{ info: EnrollSecretInfo; secret: string }>;
  listEnrollSecrets(): Promise<EnrollSecretInfo[]>;
  revokeEnrollSecret(id: string, now: number): Promise<boolean>;
  checkEnrollSecret(secret: string, now: number): Promise<EnrollSecretCheck>;
  /** Counts one use, atomically against max_uses/expiry/revocation; false when it can no longer be used. */
  consumeEnrollSecret(tx: SqlExecutor, id: string, now: number): Promise<boolean>;
  createAdminToken(label: string | null, now: number): Promise<{ id: string; token: string }>;
  /** The token's id when it is valid (records last use at most once a minute). */
  checkAdminToken(token: string, now: number): Promise<string | null>;
  revokeAdminToken(id: string, now: number): Promise<boolean>;
}>;

type SecretRow = { id: string; label: string | null; created_at: number; expires_at: number | null; max_uses: number | null; uses: number; revoked_at: number | null };

export function createCredentials(driver: SqlDriver): Credentials {
  return {
    async createEnrollSecret(options, now) {
      const id = randomId('es');
      const secret = `${ENROLL_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
      await driver.run('INSERT INTO enroll_secrets (id, secret_hash, label, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?)', [
        id, sha256(secret), options.label ?? null, now, options.expiresAt ?? null, options.maxUses ?? null,
      ]);
      return { secret, info: secretInfo({ id, label: options.label ?? null, created_at: now, expires_at: options.expiresAt ?? null, max_uses: options.maxUses ?? null, uses: 0, revoked_at: null }) };
    },
    async listEnrollSecrets() {
      const rows = await driver.all<SecretRow>('SELECT id, label, created_at, expires_at, max_uses, uses, revoked_at FROM enroll_secrets ORDER BY created_at, id');
      return rows.map(secretInfo);
    },
    async revokeEnrollSecret(id, now) {
      return (await driver.run('UPDATE enroll_secrets SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])).changes > 0;
    },
    async checkEnrollSecret(secret, now) {
      const row = await driver.get<SecretRow>('SELECT id, label, created_at, expires_at, max_uses, uses, revoked_at FROM enroll_secrets WHERE secret_hash = ?', [sha256(secret)]);
      if (!row) return { ok: false, reason: 'unknown' };
      if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
      if (row.expires_at !== null && row.expires_at <= now) return { ok: false, reason: 'expired' };
      if (row.max_uses !== null && row.uses >= row.max_uses) return { ok: false, reason: 'used-up' };
      return { ok: true, id: row.id };
    },
    async consumeEnrollSecret(tx, id, now) {
      const result = await tx.run(
        'UPDATE enroll_secrets SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)',
        [id, now],
      );
      return result.changes > 0;
    },
    async createAdminToken(label, now) {
      const id = randomId('at');
      const token = `${ADMIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      await driver.run('INSERT INTO admin_tokens (id, token_hash, label, created_at) VALUES (?, ?, ?, ?)', [id, sha256(token), label, now]);
      return { id, token };
    },
    async checkAdminToken(token, now) {
      const row = await driver.get<{ id: string; revoked_at: number | null; last_used_at: number | null }>(
        'SELECT id, revoked_at, last_used_at FROM admin_tokens WHERE token_hash = ?',
        [sha256(token)],
      );
      if (!row || row.revoked_at !== null) return null;
      if (row.last_used_at === null || now - row.last_used_at > 60_000) {
        await driver.run('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?', [now, row.id]);
      }
      return row.id;
    },
    async revokeAdminToken(id, now) {
      return (await driver.run('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])).changes > 0;
    },
  };
}

/** Hex SHA-256: how secrets and tokens are stored and looked up. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A random identifier with a readable prefix ("dev_...", "es_..."). */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

function secretInfo(row: SecretRow): EnrollSecretInfo {
  return {
    id: row.id,
    label: row.label,
    createdAt: iso(row.created_at),
    expiresAt: row.expires_at === null ? null : iso(row.expires_at),
    maxUses: row.max_uses,
    uses: row.uses,
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
