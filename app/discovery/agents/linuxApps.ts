/**
 * Desktop agent apps on Linux: AppImages in ~/Applications and ~/AppImages (version from the file
 * name), and .desktop entries in the XDG applications dirs (user dirs always, system dirs only with
 * includeSystem), versioned from the unpacked Electron app the entry starts, when there is one.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { AgentRecord } from '../../api/inventory.ts';
import { DESKTOP_APPS, type DesktopAppSpec } from './catalog.ts';
import { agentRecord, listDirReported, readText, resolvePath, type AgentScan } from './scanState.ts';
import { cleanVersion, compareVersions, electronAppVersion, numericVersion } from './version.ts';

const MAX_DESKTOP_FILE_BYTES = 256 * 1024;

type DesktopEntry = { name: string | null; exec: string | null; hidden: boolean; appImageVersion: string | null };

export async function scanLinuxApps(scan: AgentScan): Promise<AgentRecord[]> {
  const { ctx } = scan;
  const dataHome = ctx.env.XDG_DATA_HOME ?? join(ctx.home, '.local', 'share');
  const appDirs = [join(dataHome, 'applications'), join(dataHome, 'flatpak', 'exports', 'share', 'applications')];
  if (ctx.includeSystem) {
    const dataDirs = (ctx.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter((d) => isAbsolute(d));
    appDirs.push(...dataDirs.map((d) => join(d, 'applications')), '/var/lib/flatpak/exports/share/applications', '/var/lib/snapd/desktop/applications');
  }
  const appImageDirs = [join(ctx.home, 'Applications'), join(ctx.home, 'AppImages')];
  for (const dir of [...new Set(appDirs), ...appImageDirs]) scan.watch.add(dir);

  const [appImages, entries] = await Promise.all([
    Promise.all(appImageDirs.map((dir) => scanAppImages(scan, dir))).then((lists) => lists.flat()),
    scanDesktopEntries(scan, [...new Set(appDirs)]),
  ]);
  const appImagePaths = new Set(appImages.map((record) => record.path));
  const seenTargets = new Set<string>();
  const records = [...appImages];
  for (const entry of entries) {
    if (appImagePaths.has(entry.target)) continue; // The entry launches an AppImage already listed.
    const key = `${entry.record.kind}\u0000${entry.target}`;
    if (seenTargets.has(key)) continue;
    seenTargets.add(key);
    records.push(entry.record);
  }
  return records;
}

/** The newest AppImage of each app in one dir; the id ignores the version in the file name. */
async function scanAppImages(scan: AgentScan, dir: string): Promise<AgentRecord[]> {
  const newest = new Map<string, { spec: DesktopAppSpec; path: string; version: string | null }>();
  for (const entry of await listDirReported(scan, dir, 2000)) {
    if (!/\.appimage$/i.test(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
    const lower = entry.name.toLowerCase();
    const spec = DESKTOP_APPS.find((s) => s.tokens.some((token) => lower.startsWith(token)));
    if (!spec) continue;
    const version = versionInFileName(entry.name);
    const current = newest.get(spec.kind);
    if (current && (version === null || (current.version !== null && compareVersions(version, current.version) <= 0))) continue;
    newest.set(spec.kind, { spec, path: join(dir, entry.name), version });
  }
  return [...newest.values()].map(({ spec, path, version }) =>
    agentRecord({ kind: spec.kind, name: spec.name, installType: 'desktop-app', version, path, source: 'appimage', canonical: join(dir, `${spec.kind}.AppImage`) }),
  );
}

/** .desktop entries of known apps; a user entry shadows a system one with the same id (XDG). */
async function scanDesktopEntries(scan: AgentScan, dirs: readonly string[]): Promise<{ record: AgentRecord; target: string }[]> {
  const listings = await Promise.all(dirs.map((dir) => listDirReported(scan, dir)));
  const seenIds = new Set<string>();
  const candidates: { spec: DesktopAppSpec; path: string; certain: boolean }[] = [];
  listings.forEach((entries, i) => {
    for (const entry of entries) {
      if (!entry.name.endsWith('.desktop') || entry.isDirectory()) continue;
      const id = entry.name.slice(0, -'.desktop'.length).toLowerCase();
      if (seenIds.has(id)) continue;
      seenIds.add(id);
      const certain = DESKTOP_APPS.find((s) => s.desktopIds.includes(id));
      const maybe = certain ?? DESKTOP_APPS.find((s) => s.tokens.some((token) => id.includes(token)));
      if (maybe) candidates.push({ spec: maybe, path: join(dirs[i] ?? '', entry.name), certain: certain !== undefined });
    }
  });
  const results = await Promise.all(candidates.map((candidate) => desktopEntryRecord(scan, candidate.spec, candidate.path, candidate.certain)));
  return results.filter((r): r is { record: AgentRecord; target: string } => r !== null);
}

async function desktopEntryRecord(scan: AgentScan, spec: DesktopAppSpec, path: string, certain: boolean): Promise<{ record: AgentRecord; target: string } | null> {
  const read = await readText(scan, path, { maxBytes: MAX_DESKTOP_FILE_BYTES, client: spec.kind });
  let entry: DesktopEntry | null = null;
  if (read.kind === 'ok') entry = parseDesktopEntry(read.text);
  else if (read.kind === 'error') scan.errors.push(read.error);
  if (entry === null && !certain) return null;
  if (entry !== null) {
    if (entry.hidden) return null;
    const names = spec.displayNames.map((n) => n.toLowerCase());
    if (!certain && !names.includes((entry.name ?? '').toLowerCase())) return null;
  }
  const exec = entry?.exec ?? null;
  let target = path;
  let version: string | null = null;
  let source = 'desktop-entry';
  if (exec !== null) {
    const resolved = await resolvePath(exec);
    if (resolved.kind === 'ok') {
      target = exec;
      if (/\.appimage$/i.test(exec)) {
        version = entry?.appImageVersion ?? versionInFileName(basename(exec));
        source = 'appimage';
      } else {
        const binDir = dirname(resolved.realPath);
        version = (await electronAppVersion(scan, binDir, spec.kind)) ?? (await electronAppVersion(scan, dirname(binDir), spec.kind));
      }
    }
  }
  const record = agentRecord({ kind: spec.kind, name: spec.name, installType: 'desktop-app', version, path: target, source, canonical: path });
  return { record, target };
}

/** The keys of the [Desktop Entry] group this scanner needs (Desktop Entry Specification 1.5). */
export function parseDesktopEntry(text: string): DesktopEntry | null {
  let inGroup = false;
  let sawGroup = false;
  const entry: DesktopEntry = { name: null, exec: null, hidden: false, appImageVersion: null };
  for (const raw of text.split(/\r?\n/, 5000)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      inGroup = line === '[Desktop Entry]';
      sawGroup ||= inGroup;
      continue;
    }
    if (!inGroup) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'Name') entry.name = value.slice(0, 200);
    else if (key === 'Exec') entry.exec = execProgram(value);
    else if ((key === 'Hidden' || key === 'NoDisplay') && value === 'true') entry.hidden = true;
    else if (key === 'X-AppImage-Version') entry.appImageVersion = cleanVersion(value);
  }
  return sawGroup ? entry : null;
}

/** The absolute program an Exec= line starts (quotes honoured, a leading `env VAR=x` skipped). */
function execProgram(value: string): string | null {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(value); m !== null && tokens.length < 16; m = re.exec(value)) {
    tokens.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  }
  let i = 0;
  if (tokens[i] === 'env' || tokens[i] === '/usr/bin/env') {
    i += 1;
    while (i < tokens.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(tokens[i] ?? '')) i += 1;
  }
  const program = tokens[i];
  return program !== undefined && isAbsolute(program) ? program : null;
}

/** `Cursor-1.2.3-x86_64.AppImage` -> "1.2.3". */
function versionInFileName(name: string): string | null {
  const match = /[-_ ]v?(\d+(?:\.\d+)+)(?=[-_.+])/.exec(name);
  return match?.[1] ? numericVersion(match[1]) : null;
}
