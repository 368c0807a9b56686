/**
 * The mode the hook applies when the daemon gives no answer: the daemon's own status when it is
 * up, else the settings and policy files read directly (loaded lazily: this is the slow, rare
 * path). Any doubt is "unknown", which fails closed.
 */
import type { ControlClient } from '../client/controlClient.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { HookMode } from './decide.ts';

/** The daemon's mode over an open connection, or null when it does not say in time. */
export async function daemonMode(client: ControlClient | null, timeoutMs = 1000): Promise<HookMode | null> {
  if (!client) return null;
  try {
    const status = await client.call('status', {}, timeoutMs);
    return status.mode === 'monitor' || status.mode === 'enforce' ? status.mode : 'unknown';
  } catch {
    return null;
  }
}

/** The mode from the settings (user and IT-managed) and the policy files: enforce if any says so. */
export async function configuredMode(paths: CordonPaths, env: NodeJS.ProcessEnv): Promise<HookMode> {
  try {
    const { loadEffectivePolicy } = await import('../policy/load.ts');
    const loaded = await loadEffectivePolicy({ paths, env });
    if (loaded.settingsMode === 'enforce' || loaded.policy.mode === 'enforce') return 'enforce';
    return 'monitor';
  } catch {
    return 'unknown';
  }
}
