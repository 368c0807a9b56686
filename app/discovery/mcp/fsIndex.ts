/**
 * Directory listings for one scan: cached, count-bounded, never following a symlink loop. Config
 * candidates are checked against their parent's listing, so 200 projects x 20 candidate files cost
 * a few hundred listings instead of thousands of failed stat calls. Walks are depth- and count-bounded.
 */
import { readdir, type Dirent } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ScanError, ScanErrorCategory } from '../../api/inventory.ts';
import { errnoCode } from '../safeRead.ts';

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export type Listing =
  | { readonly kind: 'ok'; readonly entries: ReadonlyMap<string, EntryType>; readonly names: readonly string[]; readonly truncated: boolean }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly category: ScanErrorCategory; readonly message: string };

export type WalkOptions = Readonly<{
  /** 0 lists only `dir` itself; 1 also its subdirectories; ... */
  maxDepth: number;
  /** Which files to return (by name and full path). */
  match: (name: string, path: string) => boolean;
  /** Directory names never entered. */
  skip?: ReadonlySet<string>;
  /** Upper bound on directories listed by this walk. */
  maxDirs?: number;
}>;

export type WalkResult = { files: string[]; dirs: string[]; errors: ScanError[] };

export type Probe =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present' }
  | { readonly kind: 'blocked'; readonly category: ScanErrorCategory; readonly message: string };

export type FsIndex = Readonly<{
  /**
   * Announces the files that will be probed: a directory holding more than two of them is listed
   * once instead of stat'ing each.
   */
  expect(paths: Iterable<string>): void;
  /** Directories known to exist (project roots once checked): listed without asking their parent. */
  addAnchors(dirs: Iterable<string>): void;
  /** Absent only when a listing proves it; blocked when a parent is a symlink loop; else worth reading. */
  probe(path: string): Promise<Probe>;
  /** The same answer without waiting, when the listings it needs are already read (else undefined). */
  probeNow(path: string): Probe | undefined;
  list(dir: string): Promise<Listing>;
  walk(dir: string, options: WalkOptions): Promise<WalkResult>;
}>;

/** Entries read from one directory before the listing counts as truncated. */
export const MAX_LISTING_ENTRIES = 10_000;
const DEFAULT_MAX_WALK_DIRS = 2_000;
/** Hosts whose file systems usually ignore case: a listing lookup must ignore it too. */
const CASE_INSENSITIVE = process.platform === 'darwin' || process.platform === 'win32';
/** A directory with at most this many candidate files is probed through its parent, not listed. */
const FEW_CANDIDATES = 2;
const PRESENT: Probe = { kind: 'present' };
const ABSENT: Probe = { kind: 'absent' };
const MISSING: Listing = { kind: 'missing' };

/**
 * Settles with `fallback` if `work` has not settled within `ms` (a hung network mount must not hang
 * the scan; the stuck call itself cannot be cancelled and is left to finish in the thread pool).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Runs at most `max` tasks at once (file descriptors are finite; hostile homes are large). */
export function createLimiter(max: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so the cap holds under any interleaving.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * An index over the real file system. `anchors` (home, project roots, env-given bases) and walked
 * directories are listed; any other directory is only looked up in its parent's listing, and its
 * few candidate files are then stat'ed directly, which costs no more than listing it would.
 */
export function createFsIndex(limit: Limiter, anchors: Iterable<string>, timeoutMs: number): FsIndex {
  const timedOut: Listing = { kind: 'error', category: 'timeout', message: `listing took longer than ${timeoutMs} ms` };
  const anchorSet = new Set(anchors);
  const pending = new Map<string, Promise<Listing>>();
  /** Listings already read: probes answered from these need no await at all. */
  const done = new Map<string, Listing>();
  const expected = new Map<string, number>();

  /** Whether `dir` is worth a listing of its own (else it is checked through its parent). */
  const listed = (dir: string): boolean =>
    anchorSet.has(dir) || pending.has(dir) || (expected.get(dir) ?? 0) > FEW_CANDIDATES || dirname(dir) === dir;

  /** The answer when every listing it needs is already read; undefined when some are not. */
  const probeNow = (path: string): Probe | undefined => {
    const dir = dirname(path);
    if (dir === path) return PRESENT;
    if (!listed(dir)) {
      const parent = probeNow(dir);
      return parent === undefined || parent.kind !== 'present' ? parent : PRESENT;
    }
    const listing = done.get(dir);
    return listing === undefined ? undefined : fromListing(listing, path);
  };

  const probe = async (path: string): Promise<Probe> => {
    const now = probeNow(path);
    if (now !== undefined) return now;
    const dir = dirname(path);
    if (!listed(dir)) {
      const parent = await probe(dir);
      return parent.kind !== 'present' ? parent : PRESENT;
    }
    return fromListing(await list(dir), path);
  };

  const list = (dir: string): Promise<Listing> => {
    let promise = pending.get(dir);
    if (!promise) {
      promise = (async (): Promise<Listing> => {
        let listing: Listing;
        const parent = anchorSet.has(dir) || dirname(dir) === dir ? PRESENT : await probe(dir);
        if (parent.kind === 'absent') listing = MISSING;
        else if (parent.kind === 'blocked') listing = { kind: 'error', category: parent.category, message: parent.message };
        else listing = await limit(() => withDeadline(readListing(dir), timeoutMs, timedOut));
        done.set(dir, listing);
        return listing;
      })();
      pending.set(dir, promise);
    }
    return promise;
  };

  const walk = async (root: string, options: WalkOptions): Promise<WalkResult> => {
    const result: WalkResult = { files: [], dirs: [], errors: [] };
    const budget = { dirs: options.maxDirs ?? DEFAULT_MAX_WALK_DIRS };
    // Real paths of directories entered: a symlink back into the tree (a loop or a diamond) ends there.
    const seenReal = new Set<string>();
    const visit = async (dir: string, knownReal: string | undefined, depth: number): Promise<void> => {
      if (budget.dirs <= 0) return;
      budget.dirs--;
      const listing = await list(dir);
      if (listing.kind === 'missing') return;
      const real = knownReal ?? (await withDeadline(realpath(dir), timeoutMs, undefined).catch(() => undefined));
      if (real !== undefined) {
        if (seenReal.has(real)) return;
        seenReal.add(real);
      }
      result.dirs.push(dir);
      if (listing.kind === 'error') {
        result.errors.push({ path: dir, category: listing.category, message: listing.message });
        return;
      }
      const children: Promise<void>[] = [];
      for (const name of listing.names) {
        const type = listing.entries.get(key(name));
        const path = join(dir, name);
        // A matching directory is returned too: reading it reports "is a directory" where a file belongs.
        if (options.match(name, path)) result.files.push(path);
        if ((type === 'dir' || type === 'symlink') && depth < options.maxDepth && !options.skip?.has(name)) {
          // A plain subdirectory's real path follows from its parent's; only symlinks need resolving.
          children.push(visit(path, type === 'dir' && real !== undefined ? join(real, name) : undefined, depth + 1));
        }
      }
      await Promise.all(children);
    };
    await visit(root, undefined, 0);
    result.files.sort();
    result.dirs.sort();
    return result;
  };

  const addAnchors = (dirs: Iterable<string>): void => {
    for (const dir of dirs) anchorSet.add(dir);
  };

  const expect = (paths: Iterable<string>): void => {
    for (const path of paths) {
      const dir = dirname(path);
      expected.set(dir, (expected.get(dir) ?? 0) + 1);
    }
  };

  return { expect, addAnchors, probeNow, probe, list, walk };
}

function fromListing(listing: Listing, path: string): Probe {
  if (listing.kind === 'missing') return ABSENT;
  if (listing.kind === 'error') {
    // A loop is final; a permission error may still allow the file itself (execute-only dirs).
    return listing.category === 'symlink-loop' ? { kind: 'blocked', category: listing.category, message: 'a parent directory is a symbolic link loop' } : PRESENT;
  }
  return listing.truncated || listing.entries.has(key(basename(path))) ? PRESENT : ABSENT;
}

async function readListing(dir: string): Promise<Listing> {
  let dirents: Dirent[];
  try {
    // One readdir call: far cheaper than iterating a Dir handle for the small directories configs live in.
    dirents = await new Promise<Dirent[]>((resolve, reject) => readdir(dir, { withFileTypes: true }, (error, found) => (error ? reject(error) : resolve(found))));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'error', category: 'symlink-loop', message: 'symbolic link loop' };
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'error', category: 'permission', message: 'permission denied' };
    return { kind: 'error', category: 'io', message: `cannot list directory (${code ?? 'unknown error'})` };
  }
  const truncated = dirents.length > MAX_LISTING_ENTRIES;
  const kept = truncated ? dirents.slice(0, MAX_LISTING_ENTRIES) : dirents;
  const entries = new Map<string, EntryType>();
  const names: string[] = [];
  for (const entry of kept) {
    const type: EntryType = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'symlink' : 'other';
    names.push(entry.name);
    entries.set(key(entry.name), type);
  }
  names.sort();
  return { kind: 'ok', entries, names, truncated };
}

/** The type of one entry of a listing (undefined when absent). */
export function entryType(listing: Listing, name: string): EntryType | undefined {
  return listing.kind === 'ok' ? listing.entries.get(key(name)) : undefined;
}

function key(name: string): string {
  return CASE_INSENSITIVE ? name.toLowerCase() : name;
}
