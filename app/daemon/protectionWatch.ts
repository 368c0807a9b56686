/**
 * Keeps agents protected. Every minute (and when settings or the inventory change) it checks each
 * agent Cordon protects, or is told to protect (setting protectAgents, "*" = every supported
 * agent that is installed): a protection that was removed or altered is recorded as
 * protection.drifted; agents IT asks to protect are protected, and re-protected after drift, in
 * the configured scope. Everything is recorded; nothing here throws into the daemon.
 */
import type { Inventory } from '../api/inventory.ts';
import type { Settings } from '../api/settings.ts';
import type { ProtectionState } from '../api/sync.ts';
import { protectSettingsFor } from '../protect/hookCommand.ts';
import { protectAgent, protectContext, protectionState } from '../protect/protect.ts';
import { PROTECT_AGENTS, type ProtectAgent } from '../protect/types.ts';
import type { Logger } from '../util/log.ts';
import { watchPaths, type PathWatcher } from '../util/pathWatch.ts';
import type { CordonPaths } from '../util/paths.ts';

export type ProtectionWatchOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  home: string;
  log: Logger;
  settings: () => Settings;
  inventory: () => Inventory | null;
  proxy: () => { proxyUrl?: string; caFile?: string };
  record: (type: string, summary: string, data: unknown) => void;
  intervalMs?: number;
}>;

export type ProtectionWatch = Readonly<{
  check(reason: string): Promise<void>;
  /**
   * The device's protection as of the last check, for the fleet: protected (every installed agent
   * Cordon can protect is), degraded (some are, or one drifted), unprotected (none is), unknown
   * (not checked yet, or no protectable agent is installed).
   */
  state(): ProtectionState;
  close(): void;
}>;

export function startProtectionWatch(options: ProtectionWatchOptions): ProtectionWatch {
  const ctx = protectContext(options.paths, options.env, options.home);
  const reported = new Set<string>();
  let overall: ProtectionState = 'unknown';
  let running: Promise<void> | null = null;
  // The agents' settings files Cordon protects are watched, so drift is seen at once.
  let watcher: PathWatcher | null = null;
  const watched = new Set<string>();
  const watchFiles = (files: readonly string[]): void => {
    const added = files.filter((f) => !watched.has(f));
    if (added.length === 0) return;
    for (const f of added) watched.add(f);
    watcher ??= watchPaths([], {
      onChange: () => void check('agent settings changed'),
      onError: (error, path) => options.log.warn('protection watcher error', { error, path }),
    });
    watcher.add(added);
  };

  const checkOnce = async (reason: string): Promise<void> => {
    const settings = options.settings();
    const scope = settings.protectScope;
    const wanted = new Set<ProtectAgent>(settings.protectAgents.includes('*') ? PROTECT_AGENTS : PROTECT_AGENTS.filter((a) => settings.protectAgents.includes(a)));
    const installed = new Set((options.inventory()?.agents ?? []).map((a) => a.kind));
    let protectedCount = 0;
    let installedCount = 0;
    for (const agent of PROTECT_AGENTS) {
      if (installed.has(agent)) installedCount++;
      try {
        const state = await protectionState(agent, scope, ctx);
        if (state.recorded || wanted.has(agent)) watchFiles(state.files.map((f) => f.path));
        const key = `${agent}:${scope}`;
        const autoProtect = wanted.has(agent) && installed.has(agent);
        if (state.drifted && !reported.has(key)) {
          reported.add(key);
          const problems = state.files.flatMap((f) => f.problems.map((p) => `${f.path}: ${p}`));
          options.record('protection.drifted', `${agent} protection (${scope}) was removed or altered: ${problems.join('; ') || 'hooks disabled'}`, { agent, scope, problems, reason });
        }
        if (!state.drifted) reported.delete(key);
        if (autoProtect && (!state.recorded || state.drifted)) {
          const outcome = await protectAgent(agent, scope, protectSettingsFor(agent, options.proxy(), { mcp: settings.protectMcpServers && scope === 'user' }), ctx);
          const type = state.drifted ? 'protection.reapplied' : 'protection.applied';
          options.record(type, `${agent} ${state.drifted ? 're-protected' : 'protected'} (${scope}): ${outcome.status}`, { agent, scope, status: outcome.status, files: outcome.files, notes: outcome.notes, reason });
          if (outcome.status === 'protected' || outcome.status === 'unchanged') {
            reported.delete(key);
            if (installed.has(agent)) protectedCount++;
          }
        } else if (installed.has(agent) && state.recorded && !state.drifted) protectedCount++;
      } catch (error) {
        options.log.warn('protection check failed', { agent, error });
      }
    }
    overall = installedCount === 0 ? 'unknown' : protectedCount === installedCount ? 'protected' : protectedCount > 0 ? 'degraded' : 'unprotected';
  };

  // Checks never overlap; a request during a check runs one more check after it, so a change
  // that lands while a check is reading files is never missed.
  let again: string | null = null;
  const check = (reason: string): Promise<void> => {
    if (running) {
      again = reason;
      return running;
    }
    running = checkOnce(reason).finally(() => {
      running = null;
      if (again !== null) {
        const next = again;
        again = null;
        void check(next);
      }
    });
    return running;
  };

  const timer = setInterval(() => void check('periodic'), options.intervalMs ?? 60_000);
  timer.unref();
  void check('start');
  return {
    check,
    state: () => overall,
    close() {
      clearInterval(timer);
      void watcher?.close();
    },
  };
}
