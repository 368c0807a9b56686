/**
 * Parsed configs kept between scans of one process (the daemon rescans on every change): a file
 * whose identity (device, inode, size, mtime, ctime) is unchanged is not read again. Entries
 * written too close to when they were cached are "racily clean" (a same-size rewrite within one
 * timestamp tick is invisible to stat) and are re-read until they are old enough, as Git does.
 * It holds only what the same user can read from disk, in this process's memory, bounded in size.
 */
import { lstat, stat, type Stats } from 'node:fs';
import type { ConfigFormat, ParseOutcome } from './parse.ts';

export type FileIdentity = Readonly<{ dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number; linkCtimeMs: number }>;

export type CachedParse = Readonly<{ identity: FileIdentity; cachedAt: number; realPath: string; outcome: ParseOutcome }>;

/** Coarsest timestamp granularity we must assume (FAT and HFS+ round to 1-2 s). */
export const RACY_MS = 2_000;
/** Entries and source bytes kept; past either the cache starts over (bounds, not tuning knobs). */
const MAX_ENTRIES = 20_000;
const MAX_BYTES = 64 * 1024 * 1024;

const cache = new Map<string, CachedParse>();
let cachedBytes = 0;

/**
 * Identity of the regular file a path names (following a symlink). "missing" when it does not
 * exist, "loop" when a parent directory is a symlink loop; anything else odd (a FIFO, a permission
 * error, a dangling link) is "other", for readTextFile to classify.
 */
export function fileIdentity(path: string): Promise<FileIdentity | 'missing' | 'loop' | 'other'> {
  // The callback API: this runs for every config file on every scan, and costs half the promise API's overhead.
  return new Promise((resolve) => {
    lstat(path, (linkError, link) => {
      if (linkError) {
        const code = linkError.code;
        // ENOTDIR: a file where a parent directory belongs, so this path cannot exist.
        resolve(code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'ELOOP' ? 'loop' : 'other');
        return;
      }
      const finish = (info: Stats): void =>
        resolve(info.isFile() ? { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, linkCtimeMs: link.ctimeMs } : 'other');
      if (!link.isSymbolicLink()) finish(link);
      else stat(path, (error, info) => (error ? resolve('other') : finish(info)));
    });
  });
}

/** Whether a cached parse may stand in for reading the file again. */
export function isTrusted(entry: CachedParse, identity: FileIdentity): boolean {
  const same =
    entry.identity.dev === identity.dev &&
    entry.identity.ino === identity.ino &&
    entry.identity.size === identity.size &&
    entry.identity.mtimeMs === identity.mtimeMs &&
    entry.identity.ctimeMs === identity.ctimeMs &&
    entry.identity.linkCtimeMs === identity.linkCtimeMs;
  const newest = Math.max(identity.mtimeMs, identity.ctimeMs, identity.linkCtimeMs);
  return same && entry.cachedAt - newest >= RACY_MS;
}

/** A trusted cached parse of this file in this format, if any. */
export function cachedParse(path: string, format: ConfigFormat, identity: FileIdentity): CachedParse | undefined {
  const entry = cache.get(cacheKey(path, format));
  return entry && isTrusted(entry, identity) ? entry : undefined;
}

/** Keeps a parse for later scans (size-bounded; huge files are not kept). */
export function rememberParse(path: string, format: ConfigFormat, entry: CachedParse): void {
  const key = cacheKey(path, format);
  cachedBytes -= cache.get(key)?.identity.size ?? 0;
  cache.delete(key);
  if (entry.identity.size > MAX_BYTES / 8) return; // a huge file is re-read rather than pinned in memory
  if (cache.size >= MAX_ENTRIES || cachedBytes + entry.identity.size > MAX_BYTES) clearParseCache();
  cache.set(key, entry);
  cachedBytes += entry.identity.size;
}

/** Drops every cached parse (tests, or a daemon told to forget). */
export function clearParseCache(): void {
  cache.clear();
  cachedBytes = 0;
}

function cacheKey(path: string, format: ConfigFormat): string {
  return `${format}\u0000${path}`;
}
