/**
 * The daemon's live view of its settings: loaded at start, reloaded when the user file or a
 * managed file changes (no restart), and every reload that changes something is recorded with
 * the keys that changed. Problems are reported, never hidden.
 */
import type { SettingsReport, Settings } from '../api/settings.ts';
import { loadSettings } from '../config/settings.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { Logger } from '../util/log.ts';
import { watchPaths, type PathWatcher } from '../util/pathWatch.ts';

export type DaemonSettingsView = Readonly<{
  mode: Settings['mode'];
  projectRoots: readonly string[];
  watchEnabled: boolean;
  problems: number;
  managedPath: string | null;
  settings: Settings;
}>;

export type SettingsWatch = Readonly<{
  current(): DaemonSettingsView;
  report(): SettingsReport;
  reload(reason: string): Promise<void>;
  close(): Promise<void>;
}>;

export async function watchSettings(options: Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  log: Logger;
  onChange: (summary: string, problems: readonly string[]) => void;
}>): Promise<SettingsWatch> {
  const { paths, env, log } = options;
  const load = (): Promise<SettingsReport> => loadSettings({ paths, env, platform: process.platform });
  let report = await load();
  logProblems(report, log);

  let watcher: PathWatcher | null = null;
  const files = (r: SettingsReport): string[] => [r.files.user, ...r.files.managed.paths].filter((p) => !p.startsWith('HK'));
  let timer: NodeJS.Timeout | null = null;

  const reload = async (reason: string): Promise<void> => {
    const next = await load();
    const changed = changedKeys(report, next);
    const problemsChanged = JSON.stringify(report.problems) !== JSON.stringify(next.problems);
    report = next;
    if (changed.length > 0 || problemsChanged) {
      logProblems(next, log);
      const summary = changed.length > 0 ? `settings changed: ${changed.join(', ')} (${reason})` : `settings problems changed (${reason})`;
      log.info('settings reloaded', { changed, reason });
      options.onChange(summary, next.problems.map((p) => `${p.file}${p.key ? ` ${p.key}` : ''}: ${p.message}`));
    }
  };

  watcher = watchPaths(files(report), {
    onChange: (path, detail) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void reload(`${detail} ${path}`).catch((error) => log.error('settings reload failed', { error })), 50);
    },
    onError: (error, path) => log.warn('settings watcher error', { error, path }),
  });

  return {
    current: () => view(report),
    report: () => report,
    reload,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher?.close();
    },
  };
}

function view(report: SettingsReport): DaemonSettingsView {
  return {
    mode: report.effective.mode,
    projectRoots: report.effective.projectRoots,
    watchEnabled: report.effective.watchEnabled,
    problems: report.problems.filter((p) => p.severity !== 'info').length,
    managedPath: report.files.managed.present ? report.files.managed.path : null,
    settings: report.effective,
  };
}

/** Keys whose value or source changed; secret values are compared, never logged. */
function changedKeys(before: SettingsReport, after: SettingsReport): string[] {
  const old = new Map(before.entries.map((e) => [e.key, e]));
  return after.entries
    .filter((e) => {
      const o = old.get(e.key);
      return !o || o.source !== e.source || JSON.stringify(before.effective[e.key]) !== JSON.stringify(after.effective[e.key]);
    })
    .map((e) => e.key);
}

function logProblems(report: SettingsReport, log: Logger): void {
  for (const p of report.problems) {
    const fields = { source: p.source, file: p.file, key: p.key, kind: p.kind };
    if (p.severity === 'error') log.error(`settings: ${p.message}`, fields);
    else if (p.severity === 'warning') log.warn(`settings: ${p.message}`, fields);
  }
}
