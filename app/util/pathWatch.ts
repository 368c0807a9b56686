/**
 * Watches a set of paths that may or may not exist: config files, the directories that hold
 * agents and extensions, files that do not exist yet. What each path P gets:
 * - P is a directory: its direct children (created, changed, removed), and P itself;
 * - P is a file (or anything else): P itself, through its directory, so an editor's
 *   write-to-temp-then-rename is seen and the watch survives it;
 * - P is missing: the nearest directory that exists, for the next name on the way to P; the watch
 *   moves down as the directories appear, and P's creation is reported even when a whole tree
 *   appears at once;
 * - P is a symbolic link: also the file it points to (dotfile managers link config files).
 * One OS watch (fs.watch: inotify, FSEvents, ReadDirectoryChangesW) per directory, shared by
 * every path that needs it, and nothing else: no per-path polling, no recursive watches. Events
 * are not debounced (callers do that); a path that cannot be watched (permissions, the OS's watch
 * limit) is reported once through onError and left to the callers' periodic rescans.
 */
import { watch as fsWatch, lstatSync, realpathSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export type PathWatchOptions = Readonly<{
  /** `path` is the watched path (or, for a watched directory, the child) that changed. */
  onChange(path: string, detail: string): void;
  onError?(error: Error, path: string): void;
}>;

export type PathWatcher = Readonly<{
  add(paths: readonly string[]): void;
  unwatch(paths: readonly string[]): void;
  /** How many paths and OS watches (directories) are in use. */
  stats(): { paths: number; directories: number };
  close(): Promise<void>;
}>;

type DirWatch = { handle: FSWatcher; ino: number | null; interests: Set<string> };
type Placement = { keys: string[]; exists: boolean };

const ANY = '*';
const key = (dir: string, name: string): string => `${dir}\u0000${name}`;

export function watchPaths(initial: readonly string[], options: PathWatchOptions): PathWatcher {
  const dirs = new Map<string, DirWatch>();
  /** Interest key -> watched paths placed there. */
  const byKey = new Map<string, Set<string>>();
  const placed = new Map<string, Placement>();
  const reported = new Set<string>();
  let closed = false;

  const report = (error: Error, path: string): void => {
    const code = (error as NodeJS.ErrnoException).code ?? error.message;
    if (reported.has(`${code}:${path}`)) return;
    reported.add(`${code}:${path}`);
    options.onError?.(error, path);
  };

  const open = (dir: string): boolean => {
    if (dirs.has(dir)) return true;
    let handle: FSWatcher;
    try {
      handle = fsWatch(dir, { persistent: false }, (event, filename) => onEvent(dir, event, filename === null ? null : String(filename)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Permissions: leave it to periodic rescans, like a file that cannot be read.
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOENT' && code !== 'ENOTDIR') report(error as Error, dir);
      return false;
    }
    handle.on('error', () => lost(dir));
    dirs.set(dir, { handle, ino: inodeOf(dir), interests: new Set() });
    return true;
  };

  /** The directory went away or was replaced (the OS watch is dead): place its paths again. */
  const lost = (dir: string): void => {
    const watch = dirs.get(dir);
    if (!watch) return;
    dirs.delete(dir);
    watch.handle.close();
    const paths = new Set<string>();
    for (const interest of watch.interests) {
      for (const path of byKey.get(interest) ?? []) paths.add(path);
      byKey.delete(interest);
    }
    for (const path of paths) {
      const entry = placed.get(path);
      if (entry) entry.keys = entry.keys.filter((k) => !watch.interests.has(k));
      place(path, 'watched directory removed');
    }
  };

  /** Watched path P wants events about `name` (`*`: any name) in `dir`; the interest key, or null when `dir` cannot be watched. */
  const listen = (path: string, name: string, dir: string): string | null => {
    if (!open(dir)) return null;
    const k = key(dir, name);
    dirs.get(dir)?.interests.add(k);
    let set = byKey.get(k);
    if (!set) byKey.set(k, (set = new Set()));
    set.add(path);
    return k;
  };

  const release = (path: string, keys: readonly string[]): void => {
    for (const k of keys) {
      const set = byKey.get(k);
      set?.delete(path);
      if (set && set.size === 0) {
        byKey.delete(k);
        const dir = k.slice(0, k.indexOf('\u0000'));
        const watch = dirs.get(dir);
        watch?.interests.delete(k);
        if (watch && watch.interests.size === 0) {
          watch.handle.close();
          dirs.delete(dir);
        }
      }
    }
  };

  /** Where P's watches belong now; reports P when it appeared or vanished since the last placement. */
  const place = (path: string, detail: string | null): void => {
    if (closed) return;
    const before = placed.get(path);
    const keys: string[] = [];
    const want = (name: string, dir: string): void => {
      const k = listen(path, name, dir);
      if (k !== null) keys.push(k);
    };
    let exists = false;
    let kind: 'dir' | 'other' | null = null;
    try {
      const stat = lstatSync(path);
      exists = true;
      if (stat.isSymbolicLink()) {
        try {
          const target = realpathSync(path);
          kind = statSync(target).isDirectory() ? 'dir' : 'other';
          if (kind === 'other') want(basename(target), dirname(target));
        } catch {
          kind = 'other'; // a dangling link: its own directory entry is still watched
        }
      } else {
        kind = stat.isDirectory() ? 'dir' : 'other';
      }
    } catch {
      // Missing (or unreadable): watched from the nearest directory that exists.
    }
    if (exists) {
      if (kind === 'dir') want(ANY, path);
      if (dirname(path) !== path) want(basename(path), dirname(path));
    } else {
      // The nearest existing ancestor, for the next name on the way down to P.
      let dir = dirname(path);
      let next = basename(path);
      while (dirname(dir) !== dir && !isDirectory(dir)) {
        next = basename(dir);
        dir = dirname(dir);
      }
      if (isDirectory(dir)) want(next, dir);
    }
    if (before) release(path, before.keys.filter((k) => !keys.includes(k)));
    placed.set(path, { keys, exists });
    if (before && detail !== null && before.exists !== exists) options.onChange(path, `${exists ? 'created' : 'removed'} (${detail})`);
  };

  const onEvent = (dir: string, event: string, name: string | null): void => {
    if (closed || !dirs.has(dir)) return;
    // A rename may be the watched directory itself going away or being replaced.
    if (event === 'rename' && inodeOf(dir) !== dirs.get(dir)?.ino) {
      lost(dir);
      return;
    }
    const targets = new Set<string>();
    for (const interest of dirs.get(dir)?.interests ?? []) {
      const interestName = interest.slice(interest.indexOf('\u0000') + 1);
      if (name !== null && interestName !== ANY && interestName !== name) continue;
      for (const path of byKey.get(interest) ?? []) targets.add(path);
    }
    for (const path of targets) {
      const before = placed.get(path);
      place(path, null);
      const after = placed.get(path);
      const child = name !== null && dir === path ? join(path, name) : null;
      if (child !== null) options.onChange(child, event);
      else if (before?.exists || after?.exists) options.onChange(path, before?.exists === after?.exists ? event : after?.exists ? 'created' : 'removed');
    }
  };

  const normalize = (path: string): string | null => (isAbsolute(path) ? resolve(path) : null);

  const add = (paths: readonly string[]): void => {
    for (const raw of paths) {
      const path = normalize(raw);
      if (path === null) {
        report(new Error(`not an absolute path: ${raw}`), raw);
        continue;
      }
      if (!placed.has(path)) place(path, null);
    }
  };

  add(initial);
  return {
    add,
    unwatch(paths) {
      for (const raw of paths) {
        const path = normalize(raw);
        const entry = path === null ? undefined : placed.get(path);
        if (path === null || !entry) continue;
        release(path, entry.keys);
        placed.delete(path);
      }
    },
    stats: () => ({ paths: placed.size, directories: dirs.size }),
    async close() {
      closed = true;
      for (const watch of dirs.values()) watch.handle.close();
      dirs.clear();
      byKey.clear();
      placed.clear();
    },
  };
}

function inodeOf(dir: string): number | null {
  try {
    return statSync(dir).ino;
  } catch {
    return null;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
