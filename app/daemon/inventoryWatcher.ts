/**
 * Keeps the inventory current: scans at start (recording what changed while the daemon was down),
 * then watches every path the scan looked at, including files that do not exist yet, and rescans
 * shortly after any change. Each change becomes an event in the store within one transaction.
 * A slow periodic rescan backs up the watcher (missed events, inotify limits).
 */
import type { CordonEvent } from '../api/control.ts';
import type { Inventory } from '../api/inventory.ts';
import type { DiscoveryContextInput } from '../discovery/context.ts';
import { diffInventories } from '../discovery/diff.ts';
import { scanWithWatchPaths } from '../discovery/scan.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { Logger } from '../util/log.ts';
import { watchPaths, type PathWatcher } from '../util/pathWatch.ts';

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
  // Existing directories are watched one level deep (a PATH dir, an extensions dir), files for
  // themselves, and a path that does not exist yet from its nearest existing parent, following it
  // down as the directories appear (app/util/pathWatch.ts).
  let watcher: PathWatcher | null = null;
  let watched = new Set<string>();
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
    const next = new Set(paths);
    const added = paths.filter((p) => !watched.has(p));
    const removed = [...watched].filter((p) => !next.has(p));
    watcher ??= watchPaths([], {
      onChange: (path, detail) => schedule(`${detail} ${path}`),
      onError: (error, path) => log.warn('a path cannot be watched; periodic rescans cover it', { error, path }),
    });
    if (added.length > 0) watcher.add(added);
    if (removed.length > 0) watcher.unwatch(removed);
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
      await watcher?.close();
    },
  };
}
