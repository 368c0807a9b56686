/**
 * The console's summary queries: the fleet overview (device counts by state, last day's
 * decisions, policy rollout) and the audit timeline (decisions and approvals per hour or day).
 * Each is a handful of grouped, index-backed statements, so they stay fast at fleet size
 * (bench/fleet.bench.ts measures them at 10,000 devices).
 */
import type { AuditTimeline, FleetOverview, TimelineBucket } from '../../app/api/fleetConsole.ts';
import { iso } from './credentials.ts';
import type { SqlDriver, SqlValue } from './driver.ts';

const DAY_MS = 86_400_000;
const BUCKET_MS = { hour: 3_600_000, day: DAY_MS } as const;

export type TimelineFilter = Readonly<{ since: number; until: number; bucket: 'hour' | 'day'; deviceId?: string; agent?: string }>;

export type ConsoleQueries = Readonly<{
  overview(now: number): Promise<FleetOverview>;
  timeline(filter: TimelineFilter): Promise<AuditTimeline>;
  /** Distinct devices other than `except` that allowed or blocked host since `since` (approval prompts' fleet context). */
  destinationDevices(host: string, since: number, except: string): Promise<{ devicesAllowed: number; devicesDenied: number }>;
}>;

type Count = number | string | null;

export function createConsoleQueries(driver: SqlDriver): ConsoleQueries {
  const n = (v: Count | undefined): number => Number(v ?? 0);
  const status = driver.dialect === 'sqlite' ? "json_extract(data, '$.status')" : "(data::jsonb ->> 'status')";

  return {
    async overview(now) {
      const started = performance.now();
      const d = await driver.get<Record<string, Count>>(
        `SELECT
           sum(CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END) AS active,
           sum(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END) AS revoked,
           sum(CASE WHEN revoked_at IS NULL AND last_seen_at >= ? THEN 1 ELSE 0 END) AS seen_day,
           sum(CASE WHEN revoked_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < ?) THEN 1 ELSE 0 END) AS stale,
           sum(CASE WHEN revoked_at IS NULL AND mode = 'enforce' THEN 1 ELSE 0 END) AS enforce,
           sum(CASE WHEN revoked_at IS NULL AND mode = 'monitor' THEN 1 ELSE 0 END) AS monitor,
           sum(CASE WHEN revoked_at IS NULL AND protection = 'protected' THEN 1 ELSE 0 END) AS p_protected,
           sum(CASE WHEN revoked_at IS NULL AND protection = 'degraded' THEN 1 ELSE 0 END) AS p_degraded,
           sum(CASE WHEN revoked_at IS NULL AND protection = 'unprotected' THEN 1 ELSE 0 END) AS p_unprotected,
           sum(CASE WHEN revoked_at IS NULL AND (protection IS NULL OR protection NOT IN ('protected', 'degraded', 'unprotected')) THEN 1 ELSE 0 END) AS p_unknown,
           sum(CASE WHEN revoked_at IS NULL AND chain_problems > 0 THEN 1 ELSE 0 END) AS chain,
           sum(CASE WHEN revoked_at IS NULL AND literal_count > 0 THEN 1 ELSE 0 END) AS literal
         FROM devices`,
        [now - DAY_MS, now - 7 * DAY_MS],
      );
      const kinds = await driver.get<{ k: Count }>('SELECT count(DISTINCT kind) AS k FROM fleet_agent_groups WHERE devices > 0');
      const groups = await driver.get<{ k: Count }>('SELECT count(*) AS k FROM fleet_mcp_groups WHERE devices > 0');
      const decisions = await driver.all<{ decision: string; k: Count }>('SELECT decision, count(*) AS k FROM events WHERE time_ms >= ? AND decision IS NOT NULL GROUP BY decision', [now - DAY_MS]);
      const current = await driver.get<{ version: number | null }>('SELECT version FROM policy_current WHERE id = 1');
      const version = current?.version ?? null;
      const onCurrent = version === null ? 0 : n((await driver.get<{ k: Count }>('SELECT count(*) AS k FROM devices WHERE revoked_at IS NULL AND policy_version = ?', [version]))?.k);
      const last = { allow: 0, log: 0, ask: 0, deny: 0 };
      for (const row of decisions) if (row.decision in last) last[row.decision as keyof typeof last] = n(row.k);
      return {
        devices: {
          active: n(d?.active), revoked: n(d?.revoked), seenLastDay: n(d?.seen_day), stale: n(d?.stale), enforce: n(d?.enforce), monitor: n(d?.monitor),
          protection: { protected: n(d?.p_protected), degraded: n(d?.p_degraded), unprotected: n(d?.p_unprotected), unknown: n(d?.p_unknown) },
          chainProblems: n(d?.chain),
        },
        agentKinds: n(kinds?.k),
        mcpServerGroups: n(groups?.k),
        devicesWithLiteralSecrets: n(d?.literal),
        lastDay: last,
        policy: { currentVersion: version, devicesOnCurrent: onCurrent },
        tookMs: Math.round((performance.now() - started) * 100) / 100,
      };
    },

    async destinationDevices(host, since, except) {
      const rows = await driver.all<{ denied: number; k: Count }>(
        `SELECT CASE WHEN decision = 'deny' THEN 1 ELSE 0 END AS denied, count(DISTINCT device_id) AS k
         FROM events WHERE host = ? AND time_ms >= ? AND device_id <> ? AND decision IN ('allow', 'log', 'deny') GROUP BY CASE WHEN decision = 'deny' THEN 1 ELSE 0 END`,
        [host, since, except],
      );
      return { devicesAllowed: n(rows.find((r) => Number(r.denied) === 0)?.k), devicesDenied: n(rows.find((r) => Number(r.denied) === 1)?.k) };
    },

    async timeline(f) {
      const started = performance.now();
      const size = BUCKET_MS[f.bucket];
      const first = Math.floor(f.since / size) * size;
      const count = Math.max(1, Math.ceil((f.until - first) / size));
      const buckets: Mutable<TimelineBucket>[] = Array.from({ length: count }, (_, i) => ({
        start: iso(first + i * size), allow: 0, log: 0, ask: 0, deny: 0, approvalsRequested: 0, approvalsAllowed: 0, approvalsDenied: 0,
      }));
      const where = ['time_ms >= ?', 'time_ms < ?'];
      const params: SqlValue[] = [f.since, f.until];
      if (f.deviceId) { where.push('device_id = ?'); params.push(f.deviceId); }
      if (f.agent) { where.push('(agent_kind = ? OR agent = ?)'); params.push(f.agent, f.agent); }
      const bucketOf = `(time_ms - CAST(? AS BIGINT)) / CAST(? AS BIGINT)`;
      const decisions = await driver.all<{ b: Count; decision: string; k: Count }>(
        `SELECT ${bucketOf} AS b, decision, count(*) AS k FROM events WHERE ${where.join(' AND ')} AND decision IS NOT NULL GROUP BY b, decision`,
        [first, size, ...params],
      );
      for (const row of decisions) {
        const bucket = buckets[n(row.b)];
        if (bucket && (row.decision === 'allow' || row.decision === 'log' || row.decision === 'ask' || row.decision === 'deny')) bucket[row.decision] += n(row.k);
      }
      const approvals = await driver.all<{ b: Count; type: string; status: string | null; k: Count }>(
        `SELECT ${bucketOf} AS b, type, CASE WHEN type = 'approval.answered' THEN ${status} ELSE NULL END AS status, count(*) AS k
         FROM events WHERE ${where.join(' AND ')} AND type IN ('approval.requested', 'approval.answered') GROUP BY b, type, status`,
        [first, size, ...params],
      );
      for (const row of approvals) {
        const bucket = buckets[n(row.b)];
        if (!bucket) continue;
        if (row.type === 'approval.requested') bucket.approvalsRequested += n(row.k);
        else if (row.status === 'allowed') bucket.approvalsAllowed += n(row.k);
        else if (row.status !== null) bucket.approvalsDenied += n(row.k);
      }
      return { bucket: f.bucket, since: iso(f.since), until: iso(f.until), buckets, tookMs: Math.round((performance.now() - started) * 100) / 100 };
    },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
