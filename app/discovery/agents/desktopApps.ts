/**
 * Desktop agent apps on macOS (app bundles, version from Contents/Info.plist) and Windows
 * (per-user installs under %LOCALAPPDATA%\Programs, Squirrel installs, Program Files), and the
 * dispatch to the Linux scanner (linuxApps.ts). Names come from catalog.ts DESKTOP_APPS.
 */
import { join } from 'node:path';
import type { AgentRecord } from '../../api/inventory.ts';
import { DESKTOP_APPS, type DesktopAppSpec } from './catalog.ts';
import { scanLinuxApps } from './linuxApps.ts';
import { plistTopLevelStrings } from './plist.ts';
import { agentRecord, isDirectory, listDir, readText, reportError, type AgentScan } from './scanState.ts';
import { cleanVersion, compareVersions, electronAppVersion, numericVersion } from './version.ts';

const MAX_PLIST_BYTES = 1024 * 1024;

/** Installed desktop agent apps for the context's platform. */
export async function scanDesktopApps(scan: AgentScan): Promise<AgentRecord[]> {
  if (scan.ctx.platform === 'darwin') return scanMacApps(scan);
  if (scan.ctx.platform === 'win32') return scanWindowsApps(scan);
  return scanLinuxApps(scan);
}

async function scanMacApps(scan: AgentScan): Promise<AgentRecord[]> {
  const dirs = [join(scan.ctx.home, 'Applications'), ...(scan.ctx.includeSystem ? ['/Applications'] : [])];
  for (const dir of dirs) scan.watch.add(dir);
  const candidates = dirs.flatMap((dir) => DESKTOP_APPS.flatMap((spec) => spec.macBundles.map((bundle) => ({ spec, path: join(dir, bundle) }))));
  const records = await Promise.all(candidates.map(({ spec, path }) => macApp(scan, spec, path)));
  return records.filter((record): record is AgentRecord => record !== null);
}

async function macApp(scan: AgentScan, spec: DesktopAppSpec, bundle: string): Promise<AgentRecord | null> {
  if (!(await isDirectory(bundle))) return null;
  const plistPath = join(bundle, 'Contents', 'Info.plist');
  scan.watch.add(plistPath);
  let version: string | null = null;
  const read = await readText(scan, plistPath, { maxBytes: MAX_PLIST_BYTES, client: spec.kind });
  if (read.kind === 'missing') reportError(scan, plistPath, 'schema', 'app bundle has no Contents/Info.plist', spec.kind);
  else if (read.kind === 'error') {
    const binary = read.error.category === 'encoding';
    scan.errors.push(binary ? { ...read.error, message: 'not a text property list (binary plists are not read)' } : read.error);
  } else {
    const parsed = plistTopLevelStrings(read.text);
    if (!parsed.ok) reportError(scan, plistPath, 'parse', parsed.message, spec.kind);
    else {
      version = cleanVersion(parsed.values.get('CFBundleShortVersionString')) ?? cleanVersion(parsed.values.get('CFBundleVersion'));
      if (version === null) reportError(scan, plistPath, 'schema', 'Info.plist has no usable CFBundleShortVersionString', spec.kind);
    }
  }
  return agentRecord({ kind: spec.kind, name: spec.name, installType: 'desktop-app', version, path: bundle, source: 'app-bundle', canonical: bundle });
}

async function scanWindowsApps(scan: AgentScan): Promise<AgentRecord[]> {
  const { env, home, includeSystem } = scan.ctx;
  const local = env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
  const parents: { dir: string; source: string }[] = [{ dir: join(local, 'Programs'), source: 'user-install' }];
  const programFiles = env.ProgramFiles ?? env.PROGRAMFILES;
  if (includeSystem && programFiles) parents.push({ dir: programFiles, source: 'system-install' });
  for (const parent of parents) scan.watch.add(parent.dir);
  scan.watch.add(local);

  const seen = new Set<string>();
  const candidates: { spec: DesktopAppSpec; dir: string; source: string; squirrel: boolean }[] = [];
  const add = (spec: DesktopAppSpec, dir: string, source: string, squirrel: boolean): void => {
    // Windows paths are case-insensitive: "cursor" and "Cursor" are one dir.
    const key = dir.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    candidates.push({ spec, dir, source, squirrel });
  };
  for (const spec of DESKTOP_APPS) {
    for (const parent of parents) for (const name of spec.windowsDirs) add(spec, join(parent.dir, name), parent.source, false);
    for (const name of spec.windowsSquirrelDirs ?? []) add(spec, join(local, name), 'user-install', true);
  }
  const records = await Promise.all(
    candidates.map(async ({ spec, dir, source, squirrel }) => {
      if (!(await isDirectory(dir))) return null;
      const version = squirrel ? await squirrelVersion(scan, dir) : await electronAppVersion(scan, dir, spec.kind);
      return agentRecord({ kind: spec.kind, name: spec.name, installType: 'desktop-app', version, path: dir, source, canonical: dir });
    }),
  );
  return records.filter((record): record is AgentRecord => record !== null);
}

/** Squirrel.Windows keeps one `app-<version>` dir per installed version; the newest runs. */
async function squirrelVersion(scan: AgentScan, dir: string): Promise<string | null> {
  scan.watch.add(dir);
  const listing = await listDir(dir, 256);
  if (listing.kind !== 'ok') return null;
  let best: string | null = null;
  for (const entry of listing.entries) {
    const version = entry.name.startsWith('app-') ? numericVersion(entry.name.slice(4)) : null;
    if (version !== null && (best === null || compareVersions(version, best) > 0)) best = version;
  }
  return best;
}
