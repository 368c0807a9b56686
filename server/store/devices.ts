/**
 * Enrolled devices: enrollment (an access token bound to the device key's thumbprint), the
 * lookup every device call starts with, revocation and re-keying. Access tokens are opaque random
 * strings; only their SHA-256 is stored.
 */
import { randomBytes } from 'node:crypto';
import type { DeviceInfo } from '../../app/api/sync.ts';
import { ACCESS_TOKEN_PREFIX, randomId, sha256, type Credentials } from './credentials.ts';
import type { SqlDriver } from './driver.ts';
import { applyGroupDelta, deviceGroups, NO_GROUPS } from './fleetSummary.ts';

/** What authentication needs to know about the device behind an access token. */
export type DeviceAuth = Readonly<{ id: string; jkt: string; revoked: boolean; rekeyRequested: boolean; lastSeenAt: number | null }>;

export type EnrollOutcome = { ok: true; deviceId: string; accessToken: string } | { ok: false; reason: 'secret-refused' };

export type Devices = Readonly<{
  /** Enrolls (or, for a key already enrolled and not revoked, re-issues the token of) a device. */
  enroll(input: Readonly<{ secretId: string; jkt: string; info: DeviceInfo; now: number }>): Promise<EnrollOutcome>;
  byToken(accessToken: string): Promise<DeviceAuth | null>;
  /** Records that the device was seen (written at most once a minute per device). */
  touch(device: DeviceAuth, now: number): Promise<void>;
  revoke(id: string, now: number): Promise<boolean>;
  requestRekey(id: string, now: number): Promise<boolean>;
  /** Binds the device to a new key with a new token, if a re-key was requested and the old token is still current. */
  completeRekey(id: string, oldToken: string, newJkt: string): Promise<string | null>;
}>;

type AuthRow = { id: string; jkt: string; revoked_at: number | null; rekey_requested_at: number | null; last_seen_at: number | null };

const TOUCH_INTERVAL_MS = 60_000;

export function createDevices(driver: SqlDriver, credentials: Credentials): Devices {
  return {
    async enroll({ secretId, jkt, info, now }) {
      return driver.transaction(async (tx): Promise<EnrollOutcome> => {
        if (!(await credentials.consumeEnrollSecret(tx, secretId, now))) return { ok: false, reason: 'secret-refused' };
        const accessToken = newAccessToken();
        // A retried enrollment (the response was lost) proves the same key: same device, fresh token.
        const existing = await tx.get<{ id: string }>('SELECT id FROM devices WHERE jkt = ? AND revoked_at IS NULL ORDER BY enrolled_at DESC LIMIT 1', [jkt]);
        if (existing) {
          await tx.run('UPDATE devices SET token_hash = ?, hostname = ?, hostname_lc = ?, platform = ?, os_user = ?, agent_version = ?, last_seen_at = ? WHERE id = ?', [
            sha256(accessToken), info.hostname, info.hostname.toLowerCase(), info.platform, info.user, info.agentVersion, now, existing.id,
          ]);
          return { ok: true, deviceId: existing.id, accessToken };
        }
        const deviceId = randomId('dev');
        await tx.run(
          `INSERT INTO devices (id, token_hash, jkt, enroll_secret_id, hostname, hostname_lc, platform, os_user, agent_version, enrolled_at, last_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [deviceId, sha256(accessToken), jkt, secretId, info.hostname, info.hostname.toLowerCase(), info.platform, info.user, info.agentVersion, now, now],
        );
        return { ok: true, deviceId, accessToken };
      });
    },
    async byToken(accessToken) {
      const row = await driver.get<AuthRow>('SELECT id, jkt, revoked_at, rekey_requested_at, last_seen_at FROM devices WHERE token_hash = ?', [sha256(accessToken)]);
      if (!row) return null;
      return { id: row.id, jkt: row.jkt, revoked: row.revoked_at !== null, rekeyRequested: row.rekey_requested_at !== null, lastSeenAt: row.last_seen_at };
    },
    async touch(device, now) {
      if (device.lastSeenAt !== null && now - device.lastSeenAt < TOUCH_INTERVAL_MS) return;
      await driver.run('UPDATE devices SET last_seen_at = ? WHERE id = ?', [now, device.id]);
    },
    async revoke(id, now) {
      return driver.transaction(async (tx) => {
        if ((await tx.run('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])).changes === 0) return false;
        // A revoked device no longer counts in the fleet-wide views (its rows stay for the console).
        await applyGroupDelta(tx, await deviceGroups(tx, id), NO_GROUPS);
        return true;
      });
    },
    async requestRekey(id, now) {
      return (await driver.run('UPDATE devices SET rekey_requested_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])).changes > 0;
    },
    async completeRekey(id, oldToken, newJkt) {
      const accessToken = newAccessToken();
      const result = await driver.run(
        'UPDATE devices SET jkt = ?, token_hash = ?, rekey_requested_at = NULL WHERE id = ? AND token_hash = ? AND rekey_requested_at IS NOT NULL AND revoked_at IS NULL',
        [newJkt, sha256(accessToken), id, sha256(oldToken)],
      );
      return result.changes > 0 ? accessToken : null;
    },
  };
}

function newAccessToken(): string {
  return `${ACCESS_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}
