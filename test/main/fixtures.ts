// Shared fixtures for the main-process unit tests: a daemon status, approvals, events, settings.
import type { Approval } from '../../app/api/approvals.ts';
import type { CordonEvent, DaemonStatus } from '../../app/api/control.ts';
import type { SettingEntry, SettingsReport } from '../../app/api/settings.ts';

export function status(overrides: { mode?: string; pending?: number } = {}): DaemonStatus {
  return {
    protocolVersion: 1,
    version: '0.1.0',
    pid: 1234,
    startedAt: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 10,
    mode: overrides.mode ?? 'enforce',
    socketPath: '/tmp/x/control.sock',
    databaseFile: '/tmp/x/cordon.db',
    inventory: { scannedAt: null, agents: 2, mcpServers: 3, errors: 0, lastScanMs: 5 },
    watcher: { enabled: true, paths: 4, lastChangeAt: null, scans: 1 },
    settings: { problems: 0, managedPath: null },
    events: { total: 1, lastSeq: 1 },
    proxy: null,
    keychain: { available: true, error: null },
    ca: { bundle: null },
    policy: { problems: 0, rules: 3 },
    approvals: { pending: overrides.pending ?? 0 },
    console: null,
    paused: null,
    fleet: null,
  };
}

let seq = 0;
export function event(type: string, data: unknown = null): CordonEvent {
  seq++;
  return { seq, id: `ev-${seq}`, time: new Date(0).toISOString(), type, subjectId: null, summary: type, data };
}

export function approval(id: string, options: { createdAt?: string; expiresAt?: string; status?: Approval['status']; host?: string; agent?: string | null } = {}): Approval {
  return {
    id,
    createdAt: options.createdAt ?? '2026-01-01T00:00:00.000Z',
    expiresAt: options.expiresAt ?? '2026-01-01T00:01:00.000Z',
    defaultAction: 'deny',
    agent: options.agent === null ? null : { id: 'claude-code:1', kind: 'claude-code', name: options.agent ?? 'Claude Code', pid: 42, exe: '/usr/bin/claude' },
    chain: ['curl (43)', 'claude (42)'],
    project: '/home/dev/project',
    subject: { kind: 'egress', host: options.host ?? 'api.example.com', port: 443 },
    reasons: [],
    rule: 'ask-example',
    count: 1,
    status: options.status ?? 'pending',
  };
}

export function settingsReport(allowPause: boolean, locked: boolean): SettingsReport {
  const entry: SettingEntry = { key: 'allowPause', value: allowPause, source: locked ? 'managed' : 'default', locked, secret: false };
  return {
    effective: { allowPause, fleetServerUrl: '' } as unknown as SettingsReport['effective'],
    entries: [entry],
    problems: [],
    files: { user: '/tmp/settings.json', managed: { path: '/etc/cordon.json', paths: ['/etc/cordon.json'], overridden: false, present: locked } },
  };
}
