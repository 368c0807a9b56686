/** Shared fixtures for the audit tests: temp databases and decision inputs carrying fake secrets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionAuditInput } from '../../app/audit/decision.ts';
import type { DecisionAction, EgressRequest } from '../../app/api/enforcement.ts';
import { openDatabase, type Db } from '../../app/store/database.ts';

/** Fake credentials that must never reach the audit trail or an export. */
export const SECRETS = {
  githubToken: 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  password: 'hunter2-Correct-Horse',
  queryKey: 'qk_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  bearer: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
  pathToken: 'xoxb-1234567890-ABCDEFGHIJKLmnopqrst',
} as const;

export type TempDb = { dir: string; file: string; db: Db; cleanup(): void };

export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-audit-'));
  const file = join(dir, 'cordon.db');
  const db = openDatabase(file);
  return {
    dir,
    file,
    db,
    cleanup() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function decisionInput(options: { action?: DecisionAction; agent?: string | null; request?: Partial<EgressRequest>; time?: Date; bytesUp?: number } = {}): DecisionAuditInput {
  const agentKind = options.agent === undefined ? 'claude-code' : options.agent;
  return {
    principal: {
      attributed: true,
      chain: [
        { pid: 4242, ppid: 4241, exe: '/usr/bin/curl', argv: ['curl', '-H', `Authorization: Bearer ${SECRETS.bearer}`, `--password=${SECRETS.password}`, `https://api.example.com/v1?key=${SECRETS.queryKey}`], uid: 1000, user: 'dev', cwd: '/home/dev/project', startTimeMs: 1 },
        { pid: 4241, ppid: 4000, exe: '/usr/bin/bash', argv: ['bash', '-c', `GITHUB_TOKEN=${SECRETS.githubToken} curl ...`], uid: 1000, user: 'dev', cwd: '/home/dev/project', startTimeMs: 1 },
        { pid: 4000, ppid: 1, exe: '/usr/local/bin/claude', argv: ['claude', '--api-key', SECRETS.password], uid: 1000, user: 'dev', cwd: '/home/dev', startTimeMs: 1 },
      ],
      agent: agentKind === null ? null : { id: `agent_${agentKind}`, kind: agentKind, name: agentKind, pid: 4000, exe: '/usr/local/bin/claude' },
    },
    request: {
      kind: 'https',
      host: 'api.example.com',
      port: 443,
      method: 'POST',
      path: `/hooks/${SECRETS.pathToken}/send?token=${SECRETS.queryKey}&v=1#frag`,
      headers: { authorization: `Bearer ${SECRETS.bearer}` },
      ...options.request,
    },
    decision: {
      action: options.action ?? 'allow',
      rule: 'user:allow-example',
      layer: 'user',
      reasons: [{ code: 'rule', message: `matched rule allow-example (token ${SECRETS.githubToken} seen)` }],
    },
    keyThumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    bytesUp: options.bytesUp ?? 1200,
    bytesDown: 34000,
    durationMs: 12.5,
    status: options.action === 'deny' ? 403 : 200,
    ...(options.time ? { time: options.time } : {}),
  };
}

/** Asserts no fixture secret appears in a text (export, JSON, stored row). */
export function secretsIn(text: string): string[] {
  return Object.entries(SECRETS).filter(([, v]) => text.includes(v)).map(([k]) => k);
}
