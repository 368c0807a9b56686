/**
 * The fleet database schema as numbered migrations, one text for both SQLite and PostgreSQL
 * (`{{AUTO_ID}}` is the only dialect-specific piece). Append only: never edit a shipped one.
 * Times are BIGINT milliseconds since the epoch; booleans are INTEGER 0/1; JSON is TEXT.
 */
import { CoreError } from '../../app/api/errors.ts';
import type { Dialect, SqlDriver } from './driver.ts';

export type ServerMigration = Readonly<{ version: number; name: string; sql: string }>;

const AUTO_ID: Record<Dialect, string> = {
  sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  postgres: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
};

export const SERVER_MIGRATIONS: readonly ServerMigration[] = [
  {
    version: 1,
    name: 'fleet',
    sql: `
      CREATE TABLE enroll_secrets (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        label TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        max_uses INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        revoked_at BIGINT
      );
      CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT,
        revoked_at BIGINT
      );
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        jkt TEXT NOT NULL,
        enroll_secret_id TEXT,
        hostname TEXT NOT NULL,
        hostname_lc TEXT NOT NULL,
        platform TEXT NOT NULL,
        os_user TEXT NOT NULL,
        agent_version TEXT NOT NULL,
        mode TEXT,
        protection TEXT,
        policy_version INTEGER,
        enrolled_at BIGINT NOT NULL,
        last_seen_at BIGINT,
        revoked_at BIGINT,
        rekey_requested_at BIGINT,
        cursor BIGINT NOT NULL DEFAULT 0,
        head_seq BIGINT,
        head_hash TEXT,
        chain_problems INTEGER NOT NULL DEFAULT 0,
        events_total BIGINT NOT NULL DEFAULT 0,
        inventory_hash TEXT,
        inventory_at BIGINT,
        agents_count INTEGER NOT NULL DEFAULT 0,
        mcp_count INTEGER NOT NULL DEFAULT 0,
        literal_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX devices_jkt ON devices (jkt);
      CREATE INDEX devices_last_seen ON devices (last_seen_at);
      CREATE INDEX devices_hostname ON devices (hostname_lc);
      CREATE TABLE device_gaps (
        id {{AUTO_ID}},
        device_id TEXT NOT NULL,
        from_seq BIGINT NOT NULL,
        to_seq BIGINT NOT NULL,
        recorded_at BIGINT NOT NULL
      );
      CREATE INDEX device_gaps_device ON device_gaps (device_id);
      CREATE TABLE events (
        row_id {{AUTO_ID}},
        device_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        time TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        type TEXT NOT NULL,
        subject_id TEXT,
        summary TEXT NOT NULL,
        data TEXT NOT NULL,
        agent TEXT,
        agent_kind TEXT,
        decision TEXT,
        rule TEXT,
        host TEXT,
        port INTEGER,
        method TEXT,
        path TEXT,
        bytes_up BIGINT,
        bytes_down BIGINT,
        key_thumbprint TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        hash_ok INTEGER NOT NULL,
        received_at BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX events_device_event ON events (device_id, event_id);
      CREATE INDEX events_device_time ON events (device_id, time_ms);
      CREATE INDEX events_time ON events (time_ms);
      CREATE INDEX events_decision_time ON events (decision, time_ms);
      CREATE INDEX events_host_time ON events (host, time_ms);
      CREATE INDEX events_agent_kind_time ON events (agent_kind, time_ms);
      CREATE TABLE device_agents (
        device_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT,
        install_type TEXT NOT NULL,
        path TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        body TEXT NOT NULL,
        first_seen_at BIGINT NOT NULL,
        changed_at BIGINT NOT NULL,
        PRIMARY KEY (device_id, agent_id)
      );
      CREATE INDEX device_agents_kind ON device_agents (kind, version);
      CREATE INDEX device_agents_changed ON device_agents (changed_at);
      CREATE TABLE device_mcp_servers (
        device_id TEXT NOT NULL,
        server_id TEXT NOT NULL,
        client TEXT NOT NULL,
        name TEXT NOT NULL,
        name_lc TEXT NOT NULL,
        scope TEXT NOT NULL,
        transport TEXT NOT NULL,
        package TEXT,
        version TEXT,
        command TEXT,
        url TEXT,
        posture TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        record_hash TEXT NOT NULL,
        body TEXT NOT NULL,
        first_seen_at BIGINT NOT NULL,
        changed_at BIGINT NOT NULL,
        PRIMARY KEY (device_id, server_id)
      );
      CREATE INDEX device_mcp_name ON device_mcp_servers (name_lc);
      CREATE INDEX device_mcp_package ON device_mcp_servers (package, version);
      CREATE INDEX device_mcp_posture ON device_mcp_servers (posture);
      CREATE INDEX device_mcp_changed ON device_mcp_servers (changed_at);
      CREATE TABLE fleet_mcp_groups (
        group_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        name_lc TEXT NOT NULL,
        package TEXT,
        version TEXT,
        transport TEXT NOT NULL,
        url TEXT,
        devices INTEGER NOT NULL,
        literal_devices INTEGER NOT NULL
      );
      CREATE INDEX fleet_mcp_groups_devices ON fleet_mcp_groups (devices);
      CREATE TABLE fleet_agent_groups (
        group_key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT,
        devices INTEGER NOT NULL
      );
      CREATE TABLE inventory_changes (
        id {{AUTO_ID}},
        device_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        item TEXT NOT NULL,
        item_id TEXT NOT NULL,
        name TEXT NOT NULL,
        change TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX inventory_changes_at ON inventory_changes (at);
      CREATE INDEX inventory_changes_device ON inventory_changes (device_id, at);
      CREATE TABLE policies (
        version INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        comment TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE policy_current (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE dpop_replay (
        id TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX dpop_replay_expires ON dpop_replay (expires_at);
      CREATE TABLE dpop_nonces (
        scope TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (scope, value)
      );
      CREATE INDEX dpop_nonces_expires ON dpop_nonces (expires_at);
    `,
  },
  {
    version: 2,
    name: 'console',
    sql: `
      CREATE TABLE console_users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        password_changed_at BIGINT NOT NULL,
        last_sign_in_at BIGINT,
        disabled_at BIGINT
      );
      CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL
      );
      CREATE INDEX console_sessions_user ON console_sessions (user_id);
      CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
      CREATE TABLE signin_failures (
        row_id {{AUTO_ID}},
        key TEXT NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX signin_failures_key ON signin_failures (key, at);
      CREATE INDEX events_approval_time ON events (time_ms) WHERE type IN ('approval.requested', 'approval.answered');
      ALTER TABLE devices ADD COLUMN managed TEXT;
    `,
  },
];

/** Brings the database to the newest schema; safe when several server processes start at once. */
export async function migrateFleetStore(driver: SqlDriver, migrations: readonly ServerMigration[] = SERVER_MIGRATIONS): Promise<number> {
  await driver.withMigrationLock(async () => {
    await driver.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const latest = migrations.at(-1)?.version ?? 0;
    for (const migration of migrations) {
      await driver.transaction(async (tx) => {
        const row = await tx.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
        const current = row?.v ?? 0;
        if (current > latest) throw new CoreError('ERR_STORE', `the fleet database schema (${current}) is newer than this server (${latest}); upgrade the server`);
        if (migration.version <= current) return;
        for (const statement of statements(migration.sql, driver.dialect)) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, Date.now()]);
      });
    }
  });
  const row = await driver.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

function statements(sql: string, dialect: Dialect): string[] {
  return sql
    .replaceAll('{{AUTO_ID}}', AUTO_ID[dialect])
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s.length > 0);
}
