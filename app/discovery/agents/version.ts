/**
 * Version strings from package metadata: npm package.json, Python dist-info METADATA, version
 * dirs in install paths, and the output of `--version`. Nothing here runs a program (probe.ts does).
 */
import { dirname, join, sep } from 'node:path';
import { listDir, readJson, readText, reportError, type AgentScan } from './scanState.ts';

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/;
const OUTPUT_VERSION_RE = /(?:^|[^0-9A-Za-z.])v?(\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.-]{1,40})?)(?![0-9A-Za-z])/;

/** A trimmed version string, or null when it does not look like one (bounded, no spaces or controls). */
export function cleanVersion(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return VERSION_RE.test(trimmed) ? trimmed : null;
}

/** A version string that starts with a digit (a dir named "latest" or "tmp" is not one). */
export function numericVersion(value: string): string | null {
  const clean = cleanVersion(value);
  return clean !== null && /^\d/.test(clean) ? clean : null;
}

/**
 * Orders versions by their numeric parts, then a release above its pre-releases
 * ("1.10.0" > "1.9.2", "2.0.0" > "2.0.0-beta.1"). Returns a negative, zero or positive number.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitPre(a);
  const [coreB = '', preB] = splitPre(b);
  const partsA = coreA.split('.');
  const partsB = coreB.split('.');
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = comparePart(partsA[i] ?? '0', partsB[i] ?? '0');
    if (diff !== 0) return diff;
  }
  if (preA === undefined && preB === undefined) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA < preB ? -1 : preA > preB ? 1 : 0;
}

/** The first version-looking token in a program's `--version` output. */
export function versionFromOutput(output: string): string | null {
  for (const line of output.split(/\r?\n/, 20)) {
    const match = OUTPUT_VERSION_RE.exec(line.slice(0, 300));
    if (match?.[1] !== undefined) return cleanVersion(match[1]);
  }
  return null;
}

export type MetadataVersion = { readonly version: string | null; readonly metadataPath: string };

/**
 * `version` from an npm package.json. Unreadable or malformed metadata is a scan error and gives
 * version null; the package is still there.
 */
export async function npmPackageVersion(scan: AgentScan, packageRoot: string, client: string): Promise<MetadataVersion | 'missing'> {
  const path = join(packageRoot, 'package.json');
  const read = await readJson(scan, path, client);
  if (read.kind === 'missing') return 'missing';
  if (read.kind === 'error') return { version: null, metadataPath: path };
  const value = read.value;
  const raw = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>).version : undefined;
  const version = cleanVersion(raw);
  if (version === null) reportError(scan, path, 'schema', 'package.json has no usable "version" string', client);
  return { version, metadataPath: path };
}

/**
 * VS Code-family apps (Electron, unpacked) carry their version in resources/app/package.json.
 * Absent means another kind of app: no version, no error. Present but broken is an error.
 */
export async function electronAppVersion(scan: AgentScan, installDir: string, client: string): Promise<string | null> {
  const path = join(installDir, 'resources', 'app', 'package.json');
  const meta = await npmPackageVersion(scan, join(installDir, 'resources', 'app'), client);
  if (meta === 'missing') return null;
  scan.watch.add(path);
  return meta.version;
}

/**
 * Finds `<dist>-<version>.dist-info/METADATA` for a Python distribution in a venv or a
 * `--user` prefix (lib/python3.X/site-packages, or Lib/site-packages on Windows) and returns its
 * `Version:` header. Null when the distribution is not installed there.
 */
export async function pythonDistVersion(scan: AgentScan, prefix: string, dists: readonly string[], client: string): Promise<MetadataVersion | null> {
  const wanted = new Set(dists.map(normalizeDistName));
  const sitePackages = [join(prefix, 'Lib', 'site-packages')];
  const lib = await listDir(join(prefix, 'lib'), 64);
  if (lib.kind === 'ok') {
    for (const entry of lib.entries) {
      if (/^(python|pypy)\d/.test(entry.name)) sitePackages.push(join(prefix, 'lib', entry.name, 'site-packages'));
    }
  }
  for (const dir of sitePackages) {
    const listing = await listDir(dir);
    if (listing.kind !== 'ok') continue;
    for (const entry of listing.entries) {
      const match = /^(.+?)-([^-]+)\.dist-info$/.exec(entry.name);
      if (!match?.[1] || !wanted.has(normalizeDistName(match[1]))) continue;
      const metadataPath = join(dir, entry.name, 'METADATA');
      const read = await readText(scan, metadataPath, { maxBytes: 1024 * 1024, client });
      if (read.kind === 'missing') {
        reportError(scan, metadataPath, 'schema', 'dist-info has no METADATA file', client);
        return { version: null, metadataPath };
      }
      if (read.kind === 'error') {
        scan.errors.push(read.error);
        return { version: null, metadataPath };
      }
      const version = metadataHeader(read.text, 'Version');
      if (version === null) reportError(scan, metadataPath, 'parse', 'METADATA has no valid Version header', client);
      return { version, metadataPath };
    }
  }
  return null;
}

/**
 * The version dir of a native installer in a resolved path: `<root>/versions/<version>[/...]`
 * where root is one of `roots` (e.g. ~/.local/share/claude/versions/2.1.197).
 */
export function versionFromVersionsDir(realPath: string, roots: readonly string[]): { version: string; versionsDir: string } | null {
  const parts = realPath.split(sep);
  for (let i = parts.length - 2; i >= 1; i--) {
    if (parts[i] !== 'versions' || !roots.includes(parts[i - 1] ?? '')) continue;
    const version = numericVersion(parts[i + 1] ?? '');
    if (version !== null) return { version, versionsDir: parts.slice(0, i + 1).join(sep) || sep };
  }
  return null;
}

/** Homebrew keg or cask: `.../Cellar/<name>/<version>/...` or `.../Caskroom/<name>/<version>/...`. */
export function homebrewVersion(realPath: string, names: readonly string[]): { name: string; version: string } | null {
  const parts = realPath.split(sep);
  for (let i = 0; i + 2 < parts.length; i++) {
    if (parts[i] !== 'Cellar' && parts[i] !== 'Caskroom') continue;
    const name = parts[i + 1] ?? '';
    if (!names.includes(name)) return null;
    const version = numericVersion(parts[i + 2] ?? '');
    return version === null ? null : { name, version };
  }
  return null;
}

/** The Python prefix of an executable in `<prefix>/bin` or `<prefix>/Scripts`, if it sits in one. */
export function pythonPrefixOf(executable: string): string | null {
  const bin = dirname(executable);
  const base = bin.slice(bin.lastIndexOf(sep) + 1);
  return base === 'bin' || base === 'Scripts' ? dirname(bin) : null;
}

/** PEP 503 name normalisation (also folds the "_" that wheel dist-info dir names use). */
function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** An RFC 822-style header from the first block of a METADATA file. */
function metadataHeader(text: string, header: string): string | null {
  const prefix = `${header.toLowerCase()}:`;
  for (const line of text.split(/\r?\n/, 200)) {
    if (line === '') break;
    if (line.toLowerCase().startsWith(prefix)) return cleanVersion(line.slice(prefix.length));
  }
  return null;
}

function splitPre(version: string): [string, string | undefined] {
  const cut = version.search(/[-+~_]/);
  return cut < 0 ? [version, undefined] : [version.slice(0, cut), version.slice(cut + 1)];
}

function comparePart(a: string, b: string): number {
  const numA = /^\d+$/.test(a) ? Number(a) : Number.NaN;
  const numB = /^\d+$/.test(b) ? Number(b) : Number.NaN;
  if (!Number.isNaN(numA) && !Number.isNaN(numB)) return numA - numB;
  if (!Number.isNaN(numA)) return 1;
  if (!Number.isNaN(numB)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
