/**
 * Installed coding agents: CLIs (cli.ts), desktop apps (desktopApps.ts) and IDE extensions
 * (extensions.ts), scanned concurrently from one context. Reads only; the single exception is the
 * optional `--version` probe for a CLI whose install leaves no version metadata (probe.ts).
 */
import type { AgentRecord } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import type { AgentScanResult } from '../types.ts';
import { scanCliAgents } from './cli.ts';
import { scanDesktopApps } from './desktopApps.ts';
import { scanExtensions } from './extensions.ts';
import { newAgentScan } from './scanState.ts';

export type AgentScanOptions = Readonly<{
  /**
   * Run `<cli> --version` (bounded by ctx.versionTimeoutMs) when no package metadata tells the
   * version. Defaults to ctx.includeSystem: on for real scans of the user's own machine, off for
   * `--home DIR` scans and tests, which must never execute files from a scanned home. Never runs
   * when ctx.platform is not the platform Cordon runs on (a simulated scan).
   */
  versionProbe?: boolean;
}>;

/**
 * AgentRecord.source values this scanner emits.
 * - cli: npm-global, npm-local (~/.claude/local), pnpm-global, bun-global, volta, homebrew,
 *   native-installer, pipx, uv-tool, pip, path (found on PATH, no metadata), install-dir (found
 *   in a usual install dir not on PATH, no metadata)
 * - desktop-app: app-bundle (macOS), desktop-entry and appimage (Linux), user-install and
 *   system-install (Windows)
 * - ide-extension: extensions.json, profile-extensions.json, extensions-dir (fallback on dir names)
 */
export const AGENT_SOURCES = [
  'npm-global', 'npm-local', 'pnpm-global', 'bun-global', 'volta', 'homebrew', 'native-installer', 'pipx', 'uv-tool', 'pip', 'path', 'install-dir',
  'app-bundle', 'desktop-entry', 'appimage', 'user-install', 'system-install',
  'extensions.json', 'profile-extensions.json', 'extensions-dir',
] as const;

const INSTALL_TYPE_ORDER: Record<AgentRecord['installType'], number> = { cli: 0, 'desktop-app': 1, 'ide-extension': 2 };

/** Finds every installed agent; unreadable files become errors beside the agents still found. */
export async function scanAgents(ctx: DiscoveryContext, options: AgentScanOptions = {}): Promise<AgentScanResult> {
  const scan = newAgentScan(ctx);
  const [cli, apps, extensions] = await Promise.all([
    scanCliAgents(scan, { versionProbe: options.versionProbe ?? ctx.includeSystem }),
    scanDesktopApps(scan),
    scanExtensions(scan),
  ]);
  const seen = new Set<string>();
  const agents: AgentRecord[] = [];
  for (const agent of [...cli, ...apps, ...extensions].sort(byTypeKindPath)) {
    if (seen.has(agent.id)) continue;
    seen.add(agent.id);
    agents.push(agent);
  }
  const errors = dedupeErrors(scan.errors).sort((a, b) => compare(a.path, b.path) || compare(a.category, b.category));
  return { agents, errors, filesRead: scan.filesRead, watchPaths: [...scan.watch].sort() };
}

function byTypeKindPath(a: AgentRecord, b: AgentRecord): number {
  return INSTALL_TYPE_ORDER[a.installType] - INSTALL_TYPE_ORDER[b.installType] || compare(a.kind, b.kind) || compare(a.host ?? '', b.host ?? '') || compare(a.path, b.path);
}

function dedupeErrors<T extends { path: string; category: string; message: string }>(errors: readonly T[]): T[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.path}\u0000${error.category}\u0000${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
