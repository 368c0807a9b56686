/**
 * Reads and parses each config file once per scan, however many clients or registries ask for
 * it (and not at all when an earlier scan's parse is still valid, see parseCache.ts), and keeps
 * the scan's bookkeeping: files read, paths to watch, one error per unreadable file.
 */
import type { ScanError } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import { readTextFile } from '../safeRead.ts';
import { withDeadline, type FsIndex, type Limiter } from './fsIndex.ts';
import { parseConfig, type ConfigFormat } from './parse.ts';
import { cachedParse, fileIdentity, rememberParse, type FileIdentity } from './parseCache.ts';

const NOT_THERE: Promise<Loaded> = Promise.resolve({ kind: 'missing' });
/** Identity of a file that could not be stat'ed before reading: never matches, so never cached. */
const UNKNOWN: FileIdentity = { dev: -1, ino: -1, size: -1, mtimeMs: -1, ctimeMs: -1, linkCtimeMs: -1 };

export type Loaded =
  | { readonly kind: 'ok'; readonly path: string; readonly realPath: string; readonly value: unknown }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed' };

export type ConfigStore = Readonly<{
  /** Reads, parses and caches one file; missing files cost no syscall when a listing rules them out. */
  load(path: string, format: ConfigFormat, client?: string): Promise<Loaded>;
  /** Adds a path (a file looked for, or a directory whose listing was used) to the watch set. */
  watch(path: string): void;
  error(error: ScanError): void;
  errors(): ScanError[];
  watchPaths(): string[];
  filesRead(): number;
}>;

/** A store for one scan; `limit` caps the reads in flight. */
export function createConfigStore(ctx: DiscoveryContext, fs: FsIndex, limit: Limiter): ConfigStore {
  const cache = new Map<string, Promise<Loaded>>();
  const watched = new Set<string>();
  const errorList: ScanError[] = [];
  let read = 0;

  const load = (path: string, format: ConfigFormat, client?: string): Promise<Loaded> => {
    watched.add(path);
    // Most candidates do not exist, and a listing already read says so without any await.
    if (fs.probeNow(path)?.kind === 'absent') return NOT_THERE;
    const cacheKey = `${format}\u0000${path}`;
    let pending = cache.get(cacheKey);
    if (!pending) {
      pending = (async (): Promise<Loaded> => {
        const probe = await fs.probe(path);
        if (probe.kind === 'absent') return { kind: 'missing' };
        if (probe.kind === 'blocked') {
          errorList.push({ path, category: probe.category, message: probe.message, ...(client ? { client } : {}) });
          return { kind: 'failed' };
        }
        // Unchanged since an earlier scan (and not racily so): reuse that parse instead of reading.
        // No cap here: a stat holds no file descriptor, and issuing them together keeps the thread pool busy.
        const found = await withDeadline<Awaited<ReturnType<typeof fileIdentity>> | 'timeout'>(fileIdentity(path), ctx.fileTimeoutMs, 'timeout');
        if (found === 'missing') return { kind: 'missing' };
        if (found === 'timeout') {
          errorList.push({ path, category: 'timeout', message: `stat took longer than ${ctx.fileTimeoutMs} ms`, ...(client ? { client } : {}) });
          return { kind: 'failed' };
        }
        if (found === 'loop') {
          errorList.push({ path, category: 'symlink-loop', message: 'symbolic link loop', ...(client ? { client } : {}) });
          return { kind: 'failed' };
        }
        const identity = found === 'other' ? undefined : found;
        // A file over today's size cap goes to readTextFile, which reports it, whatever was cached.
        let entry = identity && identity.size <= ctx.maxFileBytes ? cachedParse(path, format, identity) : undefined;
        if (!entry) {
          const options = { maxBytes: ctx.maxFileBytes, timeoutMs: ctx.fileTimeoutMs, ...(client ? { client } : {}) };
          const result = await limit(() => readTextFile(path, options));
          if (result.kind === 'missing') return { kind: 'missing' };
          if (result.kind === 'error') {
            errorList.push(result.error);
            return { kind: 'failed' };
          }
          entry = { identity: identity ?? UNKNOWN, cachedAt: Date.now(), realPath: result.realPath, outcome: parseConfig(result.text, format) };
          // Stat came first: if the file changed after it, the next stat differs and the entry is never trusted.
          if (identity) rememberParse(path, format, entry);
        }
        read++;
        if (!entry.outcome.ok) {
          errorList.push({ path, category: 'parse', message: entry.outcome.message, ...(client ? { client } : {}) });
          return { kind: 'failed' };
        }
        return { kind: 'ok', path, realPath: entry.realPath, value: entry.outcome.value };
      })();
      cache.set(cacheKey, pending);
    }
    return pending;
  };

  return {
    load,
    watch: (path) => void watched.add(path),
    error: (error) => void errorList.push(error),
    errors: () => dedupe(errorList),
    watchPaths: () => [...watched].sort(),
    filesRead: () => read,
  };
}

/**
 * One error per path, category, client and entry (a directory two walks share is reported once),
 * ordered by path so the output does not depend on IO timing (a file's own errors keep their order).
 */
function dedupe(errors: readonly ScanError[]): ScanError[] {
  const seen = new Set<string>();
  const sorted = [...errors].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.filter((e) => {
    const key = [e.path, e.category, e.client ?? '', e.entry ?? '', e.message].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
