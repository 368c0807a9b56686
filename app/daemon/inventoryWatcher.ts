/**
 * Keeps the inventory current: scans at start (recording what changed while the daemon was down),
 * then watches every path the scan looked at, including files that do not exist yet, and rescans
 * shortly after any change. Each change becomes an event in the store within one transaction.
 * A slow periodic rescan backs up the watcher (missed events, inotify limits).
 */
import { statSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { CordonEvent } from '../api/control.ts';
import type { Inventory } from '../api/inventory.ts';
import type { DiscoveryContextInput } from '../discovery/context.ts';
import { diffInventories } from '../discovery/diff.ts';
import { scanWithWatchPaths } from '../discovery/scan.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { Logger } from '../util/log.ts';

export type InventoryWatcherOptions = Readonly<{
  store: EventStore;
  log: Logger;
  scanInput: () => DiscoveryContextInput;
  watch: boolean;
  onEvents: (events: readonly CordonEvent[]) => void;
  /** Quiet time after a file event before rescanning (editors write in bursts). */
  debounceMs?: number;
  periodicRescanMs?: number;
}>;

export type InventoryWatcherStats = {
  readonly watchedPaths: number;
  readonly scans: number;
  readonly lastScanMs: number | null;
  readonly lastChangeAt: string | null;
};

export type InventoryWatcher = Readonly<{
  current(): Inventory | null;
  rescan(reason: string): Promise<{ inventory: Inventory; changes: number }>;
  stats(): InventoryWatcherStats;
  close(): Promise<void>;
}>;

export async function startInventoryWatcher(options: InventoryWatcherOptions): Promise<InventoryWatcher> {
  const { store, log } = options;
  const debounceMs = options.debounceMs ?? 60;
  let inventory: Inventory | null = store.latestInventory();
  // Two watchers: existing directories are watched one level deep (a PATH dir, an extensions
  // dir), everything else (files, paths that do not exist yet) with no depth limit, so chokidar
  // follows a missing path down as its parent directories appear.
  const watchers: Record<WatchKind, FSWatcher | null> = { dir: null, path: null };
  let watched = new Map<string, WatchKind>();
  let scans = 0;
  let lastScanMs: number | null = null;
  let lastChangeAt: string | null = null;
  let running: Promise<{ inventory: Inventory; changes: number }> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const runScan = async (reason: string): Promise<{ inventory: Inventory; changes: number }> => {
    const started = performance.now();
    const result = await scanWithWatchPaths(options.scanInput());
    const changes = diffInventories(inventory, result.inventory);
    const events = store.recordScan(result.inventory, changes);
    inventory = result.inventory;
    scans++;
    lastScanMs = Math.round((performance.now() - started) * 100) / 100;
    if (events.length > 0) {
      lastChangeAt = new Date().toISOString();
      log.info('inventory changed', { reason, changes: events.map((e) => e.type) });
      options.onEvents(events);
    }
    updateWatchSet(result.watchPaths);
    return { inventory: result.inventory, changes: events.length };
  };

  /** Scans are serialized: a request during a scan runs one more scan after it. */
  const rescan = (reason: string): Promise<{ inventory: Inventory; changes: number }> => {
    if (running) {
      again = true;
      return running;
    }
    running = runScan(reason).finally(() => {
      running = null;
      if (again && !closed) {
        again = false;
        void rescan('coalesced changes').catch((error) => log.error('rescan failed', { error }));
      }
    });
    return running;
  };

  const schedule = (reason: string): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      rescan(reason).catch((error) => log.error('rescan failed', { error }));
    }, debounceMs);
  };

  const updateWatchSet = (paths: readonly string[]): void => {
    if (!options.watch || closed) return;
    const next = new Map(paths.map((p) => [p, watchKind(p)]));
    for (const kind of ['dir', 'path'] as const) {
      const want = [...next].filter(([, k]) => k === kind).map(([p]) => p);
      const had = [...watched].filter(([, k]) => k === kind).map(([p]) => p);
      const added = want.filter((p) => watched.get(p) !== kind);
      const removed = had.filter((p) => next.get(p) !== kind);
      let watcher = watchers[kind];
      if (!watcher) {
        if (added.length === 0) continue;
        watcher = watch(added, { ignoreInitial: true, persistent: true, atomic: false, ignorePermissionErrors: true, ...(kind === 'dir' ? { depth: 0 } : {}) });
        watcher.on('all', (event, path) => schedule(`${event} ${path}`));
        watcher.on('error', (error) => log.warn('file watcher error; periodic rescans continue', { error }));
        watchers[kind] = watcher;
        continue;
      }
      if (added.length > 0) watcher.add(added);
      if (removed.length > 0) watcher.unwatch(removed);
    }
    watched = next;
  };

  await rescan('start');
  const periodic = setInterval(() => void rescan('periodic').catch((error) => log.error('rescan failed', { error })), options.periodicRescanMs ?? 10 * 60_000);
  periodic.unref();

  return {
    current: () => inventory,
    rescan,
    stats: () => ({ watchedPaths: watched.size, scans, lastScanMs, lastChangeAt }),
    async close() {
      closed = true;
      clearInterval(periodic);
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      await Promise.all([watchers.dir?.close(), watchers.path?.close()]);
    },
  };
}

type WatchKind = 'dir' | 'path';

function watchKind(path: string): WatchKind {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'path';
  } catch {
    return 'path';
  }
}
