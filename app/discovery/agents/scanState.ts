/**
 * The shared state of one agent scan (errors, files read, paths to watch) and the bounded,
 * never-throwing file system helpers every agent scanner uses. File contents are only read
 * through readTextFile (safeRead.ts); this module only lists dirs and looks at inodes.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import type { AgentInstallType, AgentRecord, ScanError, ScanErrorCategory } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import { fingerprint, stableId } from '../ids.ts';
import { errnoCode, readTextFile, type ReadResult } from '../safeRead.ts';

/** Upper bound on entries read from one directory listing. */
export const MAX_DIR_ENTRIES = 5000;

export type AgentScan = {
  readonly ctx: DiscoveryContext;
  readonly errors: ScanError[];
  readonly watch: Set<string>;
  filesRead: number;
};

export type DirListing =
  | { readonly kind: 'ok'; readonly entries: readonly Dirent[]; readonly truncated: boolean }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly error: ScanError };

export type JsonRead =
  | { readonly kind: 'ok'; readonly value: unknown; readonly realPath: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly error: ScanError };

export type RecordInput = Readonly<{
  kind: string;
  name: string;
  installType: AgentInstallType;
  version: string | null;
  path: string;
  source: string;
  /** The version-independent install location the id is derived from. */
  canonical: string;
  host?: string;
  extensionId?: string;
}>;

export function newAgentScan(ctx: DiscoveryContext): AgentScan {
  return { ctx, errors: [], watch: new Set(), filesRead: 0 };
}

/** Builds a record: the id names the install (kind, type, host, place), the fingerprint what it is. */
export function agentRecord(input: RecordInput): AgentRecord {
  return {
    id: stableId('agent', input.kind, input.installType, input.host ?? '', input.canonical),
    kind: input.kind,
    name: input.name,
    installType: input.installType,
    version: input.version,
    path: input.path,
    ...(input.host !== undefined ? { host: input.host } : {}),
    ...(input.extensionId !== undefined ? { extensionId: input.extensionId } : {}),
    source: input.source,
    fingerprint: fingerprint({ kind: input.kind, path: input.path, version: input.version }),
  };
}

export function reportError(scan: AgentScan, path: string, category: ScanErrorCategory, message: string, client?: string): void {
  scan.errors.push({ path, category, message, ...(client !== undefined ? { client } : {}) });
}

/** Reads a text file with the context's caps; counts it. The caller decides whether a failure is an error. */
export async function readText(scan: AgentScan, path: string, options: Readonly<{ maxBytes?: number; client?: string }> = {}): Promise<ReadResult> {
  const result = await readTextFile(path, {
    maxBytes: Math.min(options.maxBytes ?? scan.ctx.maxFileBytes, scan.ctx.maxFileBytes),
    timeoutMs: scan.ctx.fileTimeoutMs,
    ...(options.client !== undefined ? { client: options.client } : {}),
  });
  if (result.kind === 'ok') scan.filesRead += 1;
  return result;
}

/** Reads and parses a JSON file. Read and parse failures are recorded as scan errors. */
export async function readJson(scan: AgentScan, path: string, client?: string): Promise<JsonRead> {
  const result = await readText(scan, path, client !== undefined ? { client } : {});
  if (result.kind === 'missing') return result;
  if (result.kind === 'error') {
    scan.errors.push(result.error);
    return result;
  }
  try {
    return { kind: 'ok', value: JSON.parse(result.text) as unknown, realPath: result.realPath };
  } catch (error) {
    const scanError: ScanError = { path, category: 'parse', message: jsonErrorMessage(error), ...(client !== undefined ? { client } : {}) };
    scan.errors.push(scanError);
    return { kind: 'error', error: scanError };
  }
}

/**
 * Lists a directory without following anything inside it, stopping after `max` entries. A
 * missing path (or one under a file) is "missing"; loops and permission problems are errors.
 */
export async function listDir(path: string, max: number = MAX_DIR_ENTRIES): Promise<DirListing> {
  const entries: Dirent[] = [];
  let dir;
  try {
    dir = await opendir(path, { bufferSize: 128 });
  } catch (error) {
    return listingFailure(path, error);
  }
  try {
    for await (const entry of dir) {
      if (entries.length >= max) return { kind: 'ok', entries, truncated: true };
      entries.push(entry);
    }
    return { kind: 'ok', entries, truncated: false };
  } catch (error) {
    return listingFailure(path, error);
  } finally {
    // for-await closes the handle when it completes or breaks; a second close rejects harmlessly.
    await dir.close().catch(() => undefined);
  }
}

/** Like listDir, but records errors and truncation on the scan. */
export async function listDirReported(scan: AgentScan, path: string, max: number = MAX_DIR_ENTRIES): Promise<readonly Dirent[]> {
  const listing = await listDir(path, max);
  if (listing.kind === 'missing') return [];
  if (listing.kind === 'error') {
    scan.errors.push(listing.error);
    return [];
  }
  if (listing.truncated) reportError(scan, path, 'too-large', `more than ${max} directory entries; the rest were not scanned`);
  return listing.entries;
}

/** lstat that returns null instead of throwing. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch {
    return null;
  }
}

export type Resolved =
  | { readonly kind: 'ok'; readonly realPath: string; readonly stats: Stats }
  | { readonly kind: 'missing' }
  | { readonly kind: 'loop' }
  | { readonly kind: 'error'; readonly message: string };

/** Resolves symlinks (the kernel bounds the chain, so loops end as ELOOP) and stats the target. */
export async function resolvePath(path: string): Promise<Resolved> {
  try {
    const realPath = await realpath(path);
    return { kind: 'ok', realPath, stats: await stat(realPath) };
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'loop' };
    return { kind: 'error', message: code ?? 'unreadable' };
  }
}

/** True when the path is a directory (following symlinks); false for anything else or an error. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Runs `fn` over items with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Where JSON.parse failed, without the excerpt of file text V8 puts in its message (it may hold a secret). */
function jsonErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : '';
  const lineColumn = /line (\d+) column (\d+)/.exec(text);
  if (lineColumn) return `invalid JSON at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  if (/end of JSON input/i.test(text)) return 'invalid JSON: unexpected end of input';
  return 'invalid JSON';
}

function listingFailure(path: string, error: unknown): DirListing {
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  const fail = (category: ScanErrorCategory, message: string): DirListing => ({ kind: 'error', error: { path, category, message } });
  if (code === 'ELOOP') return fail('symlink-loop', 'symbolic link loop');
  if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'permission denied');
  return fail('io', code ?? 'could not list directory');
}
