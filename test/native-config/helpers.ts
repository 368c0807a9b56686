// Shared by the native-config tests: the repository's files, a non-default value for every key,
// and a fresh CORDON_HOME for loadSettings.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SettingKey } from '../../app/api/settings.ts';
import { cordonPaths, type CordonPaths } from '../../app/util/paths.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export function repoFile(path: string): Promise<Buffer> {
  return readFile(join(REPO, ...path.split('/')));
}

/**
 * A valid value different from the built-in default for every key: what the round trips set
 * through each artifact's form and expect the daemon's reader to return.
 */
export const SAMPLE: Readonly<Record<SettingKey, unknown>> = {
  fleetServerUrl: 'https://fleet.example.com/cordon',
  enrollSecret: 'enroll-secret & <value>',
  enrollSecretFile: '/etc/cordon/enroll.secret',
  mode: 'enforce',
  lockedPolicy: { rules: [{ match: 'mcp:*', action: 'deny' }] },
  lockedPolicyFile: '/etc/cordon/locked-policy.json',
  allowedAgents: ['claude-code', 'codex'],
  blockedAgents: ['aider'],
  protectAgents: ['*'],
  protectScope: 'managed',
  protectMcpServers: true,
  allowPause: false,
  syncIntervalSeconds: 600,
  tlsInspectionHosts: ['api.openai.com', '*.anthropic.com'],
  caDistribution: 'system-trust-store',
  projectRoots: ['~/src', '/work/projects'],
  watchEnabled: false,
  logLevel: 'debug',
  proxyPort: 9100,
  approvalTimeoutSeconds: 60,
  approvalTimeoutAction: 'allow',
  auditRetentionDays: 30,
};

export type TempDir = Readonly<{ root: string; paths: CordonPaths; cleanup(): Promise<void> }>;

/** A temp directory with CORDON_HOME inside it (no user settings file). */
export async function tempDir(): Promise<TempDir> {
  const root = await mkdtemp(join(tmpdir(), 'cordon-native-config-'));
  return { root, paths: cordonPaths({ HOME: root, CORDON_HOME: join(root, 'home') }, 'linux'), cleanup: () => rm(root, { recursive: true, force: true }) };
}
