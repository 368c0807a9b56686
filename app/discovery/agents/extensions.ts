/**
 * Agent extensions in VS Code-style editors. The installed set is what the editor loads:
 * `<extensions dir>/extensions.json` (plus per-profile lists), minus dirs named in `.obsolete`.
 * Without a readable extensions.json, dir names `<publisher>.<name>-<version>[-<platform>]` stand
 * in, newest version per id. The version comes from the extension's package.json, else the list.
 */
import { basename, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentRecord } from '../../api/inventory.ts';
import { editorUserDataDir } from '../context.ts';
import { EXTENSION_HOSTS, extensionAgent, type ExtensionHostSpec } from './catalog.ts';
import { agentRecord, listDir, listDirReported, readJson, reportError, resolvePath, type AgentScan } from './scanState.ts';
import { cleanVersion, compareVersions, npmPackageVersion } from './version.ts';

const MAX_MANIFEST_ENTRIES = 20_000;
const MAX_PROFILES = 100;
const DIR_NAME_RE = /^([^.\s]+\.\S+?)-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+?)?)(?:-((?:win32|linux|alpine|darwin)-(?:x64|arm64|armhf|ia32)|web))?$/;

type Installed = { extensionId: string; version: string | null; dir: string; source: string };

/** Agent extensions of every known editor. */
export async function scanExtensions(scan: AgentScan): Promise<AgentRecord[]> {
  const perHost = await Promise.all(EXTENSION_HOSTS.map((host) => scanHost(scan, host)));
  return perHost.flat();
}

async function scanHost(scan: AgentScan, host: ExtensionHostSpec): Promise<AgentRecord[]> {
  const extDir = join(scan.ctx.home, host.dir);
  const manifestPath = join(extDir, 'extensions.json');
  const obsoletePath = join(extDir, '.obsolete');
  scan.watch.add(extDir);
  scan.watch.add(manifestPath);
  scan.watch.add(obsoletePath);
  const exists = await listDir(extDir, 0);
  if (exists.kind === 'missing') return [];
  if (exists.kind === 'error') {
    scan.errors.push(exists.error);
    return [];
  }

  const [manifest, obsolete, profiles] = await Promise.all([
    readManifest(scan, manifestPath, extDir, host.host),
    readObsolete(scan, obsoletePath),
    profileManifests(scan, host, extDir),
  ]);
  // No usable extensions.json (absent, unreadable, malformed): the dir names are the next best list.
  const listed = manifest ?? (await fromDirNames(scan, extDir));
  const newest = new Map<string, Installed>();
  for (const item of [...listed, ...profiles]) {
    if (obsolete.has(basename(item.dir))) continue;
    const current = newest.get(item.extensionId);
    if (current && compareVersions(item.version ?? '0', current.version ?? '0') <= 0) continue;
    newest.set(item.extensionId, item);
  }
  const records = await Promise.all([...newest.values()].map((item) => extensionRecord(scan, host.host, extDir, item)));
  return records.filter((record): record is AgentRecord => record !== null);
}

async function extensionRecord(scan: AgentScan, host: string, extDir: string, item: Installed): Promise<AgentRecord | null> {
  const spec = extensionAgent(item.extensionId);
  if (!spec) return null;
  const resolved = await resolvePath(item.dir);
  if (resolved.kind === 'loop') reportError(scan, item.dir, 'symlink-loop', 'symbolic link loop', spec.kind);
  // Listed but gone (or not a dir): the editor does not load it either.
  if (resolved.kind !== 'ok' || !resolved.stats.isDirectory()) return null;
  const meta = await npmPackageVersion(scan, item.dir, spec.kind);
  const version = meta !== 'missing' && meta.version !== null ? meta.version : item.version;
  return agentRecord({
    kind: spec.kind,
    name: spec.name,
    installType: 'ide-extension',
    version,
    path: item.dir,
    source: item.source,
    canonical: join(extDir, spec.extensionId),
    host,
    extensionId: spec.extensionId,
  });
}

/** Agent entries of one extensions.json; null when there is no usable file (the caller falls back). */
async function readManifest(scan: AgentScan, path: string, extDir: string, client: string, source = 'extensions.json'): Promise<Installed[] | null> {
  const read = await readJson(scan, path, client);
  if (read.kind !== 'ok') return null;
  if (!Array.isArray(read.value)) {
    reportError(scan, path, 'schema', 'expected a JSON array of extensions', client);
    return null;
  }
  const out: Installed[] = [];
  let bad = 0;
  for (const raw of read.value.slice(0, MAX_MANIFEST_ENTRIES)) {
    const entry = isObject(raw) ? raw : {};
    const identifier = isObject(entry.identifier) ? entry.identifier : {};
    const id = typeof identifier.id === 'string' ? identifier.id.toLowerCase() : null;
    if (id === null || !extensionAgent(id)) continue; // Only agents matter; others may be any shape.
    const dir = entryDir(entry, extDir);
    if (dir === null) {
      bad += 1;
      continue;
    }
    out.push({ extensionId: id, version: cleanVersion(entry.version), dir, source });
  }
  if (bad > 0) reportError(scan, path, 'schema', `${bad} agent extension entr${bad === 1 ? 'y has' : 'ies have'} no usable location`, client);
  if (read.value.length > MAX_MANIFEST_ENTRIES) reportError(scan, path, 'too-large', `more than ${MAX_MANIFEST_ENTRIES} entries; the rest were not read`, client);
  return out;
}

/** Where an extensions.json entry lives: relativeLocation inside the dir, else a file location. */
function entryDir(entry: Record<string, unknown>, extDir: string): string | null {
  const rel = entry.relativeLocation;
  if (typeof rel === 'string' && rel !== '' && rel !== '.' && rel !== '..' && !/[\\/]/.test(rel)) return join(extDir, rel);
  const location = entry.location;
  if (typeof location === 'string') {
    if (!location.startsWith('file:')) return isAbsolute(location) ? location : null;
    try {
      return fileURLToPath(location);
    } catch {
      return null;
    }
  }
  if (!isObject(location) || (location.scheme !== undefined && location.scheme !== 'file')) return null;
  for (const candidate of [location.fsPath, location.path]) {
    if (typeof candidate !== 'string') continue;
    const path = /^\/[A-Za-z]:[\\/]/.test(candidate) ? candidate.slice(1) : candidate; // "/c:/Users/..." URI path
    if (isAbsolute(path)) return path;
  }
  return null;
}

/** `.obsolete`: {"<dir name>": true} for versions the editor replaced but has not deleted yet. */
async function readObsolete(scan: AgentScan, path: string): Promise<Set<string>> {
  const read = await readJson(scan, path);
  if (read.kind !== 'ok') return new Set();
  if (!isObject(read.value)) {
    reportError(scan, path, 'schema', 'expected a JSON object of directory names');
    return new Set();
  }
  return new Set(Object.entries(read.value).filter(([, flag]) => flag === true).map(([name]) => name));
}

/** Per-profile extension lists (`<user data>/User/profiles/<id>/extensions.json`). */
async function profileManifests(scan: AgentScan, host: ExtensionHostSpec, extDir: string): Promise<Installed[]> {
  if (!host.userDataApp) return [];
  const profilesDir = join(editorUserDataDir(scan.ctx, host.userDataApp), 'User', 'profiles');
  scan.watch.add(profilesDir);
  const listing = await listDir(profilesDir, MAX_PROFILES);
  if (listing.kind !== 'ok') return [];
  const lists = await Promise.all(
    listing.entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => {
        const path = join(profilesDir, entry.name, 'extensions.json');
        scan.watch.add(path);
        return readManifest(scan, path, extDir, host.host, 'profile-extensions.json');
      }),
  );
  return lists.flatMap((list) => list ?? []);
}

/** The fallback list: agent extension dirs by name, each id's newest version. */
async function fromDirNames(scan: AgentScan, extDir: string): Promise<Installed[]> {
  const out: Installed[] = [];
  for (const entry of await listDirReported(scan, extDir)) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const match = DIR_NAME_RE.exec(entry.name);
    if (!match?.[1] || !match[2]) continue;
    const id = match[1].toLowerCase();
    if (!extensionAgent(id)) continue;
    out.push({ extensionId: id, version: match[2], dir: join(extDir, entry.name), source: 'extensions-dir' });
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
