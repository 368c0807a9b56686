/**
 * The fleet policy: every saved version kept (text, SHA-256, comment), one current version (or
 * none), and which version each device reports as applied. Validation happens before save, in
 * the admin API (server/admin/policyRoutes.ts).
 */
import { createHash } from 'node:crypto';
import type { FleetPolicy, PolicyStatus, PolicyVersionInfo } from '../../app/api/sync.ts';
import { iso } from './credentials.ts';
import type { SqlDriver } from './driver.ts';

export type CurrentPolicy = Readonly<{ etag: string; policy: (FleetPolicy & { comment: string | null }) | null }>;

export type Policies = Readonly<{
  current(): Promise<CurrentPolicy>;
  /** Saves text as the next version and makes it current. */
  save(text: string, comment: string | null, now: number): Promise<number>;
  /** Makes an existing version current again (rollback), or none (null). False when it does not exist. */
  setCurrent(version: number | null, now: number): Promise<boolean>;
  versions(): Promise<PolicyVersionInfo[]>;
  version(version: number): Promise<(FleetPolicy & { comment: string | null }) | null>;
  status(): Promise<PolicyStatus>;
}>;

type PolicyRow = { version: number; text: string; sha256: string; comment: string | null; created_at: number };

/** The ETag of "no fleet policy". */
export const NO_POLICY_ETAG = '"none"';

export function createPolicies(driver: SqlDriver): Policies {
  const current = async (): Promise<CurrentPolicy> => {
    const row = await driver.get<PolicyRow & { updated_at: number }>(
      'SELECT p.version, p.text, p.sha256, p.comment, p.created_at, c.updated_at FROM policy_current c JOIN policies p ON p.version = c.version WHERE c.id = 1',
    );
    if (!row) return { etag: NO_POLICY_ETAG, policy: null };
    return { etag: etagOf(row), policy: { version: row.version, text: row.text, sha256: row.sha256, updatedAt: iso(row.created_at), comment: row.comment } };
  };
  const upsertCurrent = 'INSERT INTO policy_current (id, version, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at';

  return {
    current,
    async save(text, comment, now) {
      return driver.transaction(async (tx) => {
        const top = await tx.get<{ v: number | null }>('SELECT max(version) AS v FROM policies');
        const version = (top?.v ?? 0) + 1;
        const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
        await tx.run('INSERT INTO policies (version, text, sha256, comment, created_at) VALUES (?, ?, ?, ?, ?)', [version, text, sha256, comment, now]);
        await tx.run(upsertCurrent, [version, now]);
        return version;
      });
    },
    async setCurrent(version, now) {
      return driver.transaction(async (tx) => {
        if (version !== null && !(await tx.get('SELECT version FROM policies WHERE version = ?', [version]))) return false;
        await tx.run(upsertCurrent, [version, now]);
        return true;
      });
    },
    async versions() {
      const cur = await driver.get<{ version: number | null }>('SELECT version FROM policy_current WHERE id = 1');
      const rows = await driver.all<PolicyRow>('SELECT version, sha256, comment, created_at, \'\' AS text FROM policies ORDER BY version DESC LIMIT 1000');
      return rows.map((r) => ({ version: r.version, sha256: r.sha256, createdAt: iso(r.created_at), comment: r.comment, current: r.version === cur?.version }));
    },
    async version(version) {
      const row = await driver.get<PolicyRow>('SELECT version, text, sha256, comment, created_at FROM policies WHERE version = ?', [version]);
      return row ? { version: row.version, text: row.text, sha256: row.sha256, updatedAt: iso(row.created_at), comment: row.comment } : null;
    },
    async status() {
      const cur = await current();
      const applied = await driver.all<{ version: number | null; devices: number }>(
        'SELECT policy_version AS version, count(*) AS devices FROM devices WHERE revoked_at IS NULL GROUP BY policy_version ORDER BY policy_version DESC',
      );
      return { current: cur.policy, applied };
    },
  };
}

function etagOf(row: Pick<PolicyRow, 'version' | 'sha256'>): string {
  return `"v${row.version}-${row.sha256.slice(0, 16)}"`;
}
