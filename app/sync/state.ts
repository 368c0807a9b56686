/**
 * The sync client's persistent state: the one `sync_state` row of the daemon database
 * (enrollment, cursors, retry state, last inventory and policy) and the access token, which lives
 * in the OS keychain and never on disk.
 */
import type Database from 'better-sqlite3';
import type { KeyStore } from '../identity/keyStore.ts';

type Db = Database.Database;

/** Keychain account of the fleet access token (under the daemon's keychain service). */
export const TOKEN_ACCOUNT = 'fleet:access-token';

export type SyncStateRow = {
  server_url: string | null;
  device_id: string | null;
  key_thumbprint: string | null;
  enrolled_at: string | null;
  copied_through: number;
  acked_cursor: number;
  dropped_total: number;
  consecutive_failures: number;
  next_attempt_at: number;
  last_attempt_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  revoked_at: string | null;
  inventory_hash: string | null;
  inventory_sent: string | null;
  inventory_sent_at: string | null;
  device_state: string | null;
  policy_etag: string | null;
  policy_version: number | null;
  policy_text: string | null;
  policy_sha256: string | null;
  policy_applied_version: number | null;
  clock_offset_ms: number;
};

export type SyncStateUpdate = Partial<SyncStateRow>;

const COLUMNS = new Set<keyof SyncStateRow>([
  'server_url', 'device_id', 'key_thumbprint', 'enrolled_at', 'copied_through', 'acked_cursor', 'dropped_total', 'consecutive_failures',
  'next_attempt_at', 'last_attempt_at', 'last_success_at', 'last_error', 'revoked_at', 'inventory_hash', 'inventory_sent', 'inventory_sent_at',
  'device_state', 'policy_etag', 'policy_version', 'policy_text', 'policy_sha256', 'policy_applied_version', 'clock_offset_ms',
]);

export function readSyncState(db: Db): SyncStateRow {
  const row = db.prepare<[], SyncStateRow>('SELECT * FROM sync_state WHERE id = 1').get();
  if (!row) throw new Error('sync_state row missing (migration 0003 not applied)');
  return row;
}

export function updateSyncState(db: Db, update: SyncStateUpdate): void {
  const keys = Object.keys(update).filter((k): k is keyof SyncStateRow => COLUMNS.has(k as keyof SyncStateRow));
  if (keys.length === 0) return;
  db.prepare(`UPDATE sync_state SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = 1`).run(...keys.map((k) => update[k] ?? null));
}

export function isEnrolled(state: SyncStateRow): boolean {
  return state.device_id !== null && state.server_url !== null;
}

export async function loadToken(keyStore: KeyStore): Promise<string | null> {
  return keyStore.get(TOKEN_ACCOUNT);
}

export async function saveToken(keyStore: KeyStore, token: string): Promise<void> {
  await keyStore.set(TOKEN_ACCOUNT, token);
}
