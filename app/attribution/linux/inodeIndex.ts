/**
 * Socket inode -> owning pid on Linux, by reading the /proc/<pid>/fd links ("socket:[inode]").
 * A full scan of every process is the slow path; this index keeps it rare. Sockets seen in any
 * earlier read are remembered (and verified with one readlink). prefetchNew() reads the processes
 * started since the last look (found from /proc/loadavg's last pid, without listing /proc), meant
 * to run while the socket lookup is in flight. Then recent owners' new descriptors, then processes
 * new since the last listing, then the rest newest first, restricted to the socket owner's uid
 * until that finds nothing.
 */
import { readdirSync, statSync } from 'node:fs';
import { readBounded, readlinkOrNull } from './read.ts';

const MAX_KNOWN_SOCKETS = 16_384;
const MAX_RECENT_OWNERS = 32;
const MAX_FD_SNAPSHOTS = 512;
/** How many recent owners get the cheap new-descriptors-only look before /proc is listed. */
const RECENT_OWNERS_FIRST = 8;
/** Most pids prefetchNew() probes; more new pids than that (or a pid wrap) waits for a listing. */
const MAX_PREFETCH_PROBES = 128;

export type InodeIndex = {
  /** The pid holding socket `inode`, or null. `uid` (the socket's owner) narrows the scan first. */
  findOwner(inode: number, uid: number | null): number | null;
  /** Records the sockets of processes started since the last look. Cheap, bounded, never throws. */
  prefetchNew(): void;
  counters(): Readonly<{ ownerCacheHits: number; ownerScans: number }>;
  clear(): void;
};

type Holder = Readonly<{ pid: number; fd: string }>;

export function createInodeIndex(procRoot: string): InodeIndex {
  const known = new Map<number, Holder>();
  let recentOwners: number[] = [];
  let lastPids = new Set<number>();
  /** The most recently created pid when /proc was last listed or probed; 0 before the first listing. */
  let lastSeenPid = 0;
  let pidMax = 0;
  const pidUids = new Map<number, number | null>();
  /** The fd names each process had when last read. */
  const fdSnapshots = new Map<number, Set<string>>();
  let ownerCacheHits = 0;
  let ownerScans = 0;

  const remember = (inode: number, holder: Holder): void => {
    if (known.size >= MAX_KNOWN_SOCKETS && !known.has(inode)) known.delete(known.keys().next().value as number);
    known.set(inode, holder);
  };

  const fromCache = (inode: number): number | null => {
    const cached = known.get(inode);
    if (!cached) return null;
    if (readlinkOrNull(`${procRoot}/${cached.pid}/fd/${cached.fd}`) === `socket:[${inode}]`) return cached.pid;
    known.delete(inode);
    return null;
  };

  const touchOwner = (pid: number): number => {
    recentOwners = [pid, ...recentOwners.filter((p) => p !== pid)].slice(0, MAX_RECENT_OWNERS);
    return pid;
  };

  const pidUid = (pid: number): number | null => {
    let uid = pidUids.get(pid);
    if (uid === undefined) {
      try {
        uid = statSync(`${procRoot}/${pid}`).uid;
      } catch {
        uid = null;
      }
      pidUids.set(pid, uid);
    }
    return uid;
  };

  /**
   * Reads the fd links of one process until `inode` is found (0: read them all), descriptors it
   * did not have at its last read first, recording every socket on the way. `newOnly` skips the
   * descriptors it had before.
   */
  const scanPid = (pid: number, inode: number, newOnly = false): boolean => {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      fdSnapshots.delete(pid);
      return false;
    }
    const before = fdSnapshots.get(pid);
    if (fdSnapshots.size >= MAX_FD_SNAPSHOTS && !before) fdSnapshots.delete(fdSnapshots.keys().next().value as number);
    fdSnapshots.set(pid, new Set(fds));
    const byNumberDesc = (a: string, b: string): number => Number(b) - Number(a);
    const added = before ? fds.filter((fd) => !before.has(fd)).sort(byNumberDesc) : fds.sort(byNumberDesc);
    const order = newOnly || !before ? added : [...added, ...fds.filter((fd) => before.has(fd)).sort(byNumberDesc)];
    const target = `socket:[${inode}]`;
    for (const fd of order) {
      const link = readlinkOrNull(`${procRoot}/${pid}/fd/${fd}`);
      if (link === null || !link.startsWith('socket:[')) continue;
      const seen = Number(link.slice(8, -1));
      if (Number.isSafeInteger(seen)) remember(seen, { pid, fd });
      if (link === target) return true;
    }
    return false;
  };

  const listPids = (): number[] => {
    let names: string[];
    try {
      names = readdirSync(procRoot);
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const name of names) {
      const code = name.charCodeAt(0);
      if (code >= 48 && code <= 57 && /^\d+$/.test(name)) pids.push(Number(name));
    }
    return pids;
  };

  /** The most recently created pid ("0.00 0.01 0.05 1/123 45678": the last field of /proc/loadavg). */
  const lastCreatedPid = (): number | null => {
    if (pidMax === 0) pidMax = Number(readBounded(`${procRoot}/sys/kernel/pid_max`, 32)?.toString('latin1').trim() ?? '') || 32768;
    const loadavg = readBounded(`${procRoot}/loadavg`, 256)?.toString('latin1') ?? '';
    const pid = Number(/\/\d+\s+(\d+)\s*$/.exec(loadavg)?.[1] ?? Number.NaN);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  };

  /** Whether a pid is a process (thread group leader), not one of its threads: threads are not listed but can be opened. */
  const isProcess = (pid: number): boolean => {
    const head = readBounded(`${procRoot}/${pid}/status`, 512);
    const tgid = head ? /^Tgid:\s*(\d+)/m.exec(head.toString('latin1'))?.[1] : undefined;
    return tgid !== undefined && Number(tgid) === pid;
  };

  return {
    prefetchNew() {
      if (lastSeenPid === 0) return;
      const newest = lastCreatedPid();
      if (newest === null || newest === lastSeenPid) return;
      // Pids are handed out in increasing order, wrapping at pid_max back to 300 (RESERVED_PIDS).
      const pids: number[] = [];
      const take = (from: number, downTo: number): boolean => {
        for (let pid = from; pid >= downTo; pid--) if (pids.push(pid) > MAX_PREFETCH_PROBES) return false;
        return true;
      };
      const fits = newest > lastSeenPid ? take(newest, lastSeenPid + 1) : take(newest, 300) && take(pidMax - 1, lastSeenPid + 1);
      if (!fits) return;
      for (const pid of pids) {
        if (!isProcess(pid)) continue;
        lastPids.add(pid);
        scanPid(pid, 0);
      }
      lastSeenPid = newest;
    },
    findOwner(inode, uid) {
      if (!Number.isSafeInteger(inode) || inode <= 0) return null;
      const hit = fromCache(inode);
      if (hit !== null) {
        ownerCacheHits++;
        return touchOwner(hit);
      }
      ownerScans++;
      // The new descriptors of recent owners, before listing /proc at all: a busy agent opens
      // many connections, each usually on a descriptor it did not have before.
      for (const pid of recentOwners.slice(0, RECENT_OWNERS_FIRST)) if (fdSnapshots.has(pid) && scanPid(pid, inode, true)) return touchOwner(pid);
      lastSeenPid = lastCreatedPid() ?? 0;
      const current = listPids();
      const currentSet = new Set(current);
      for (const pid of pidUids.keys()) if (!currentSet.has(pid)) pidUids.delete(pid);
      for (const pid of fdSnapshots.keys()) if (!currentSet.has(pid)) fdSnapshots.delete(pid);
      recentOwners = recentOwners.filter((pid) => currentSet.has(pid));
      const fresh = current.filter((pid) => !lastPids.has(pid)).sort((a, b) => b - a);
      const old = current.filter((pid) => lastPids.has(pid)).sort((a, b) => b - a);
      lastPids = currentSet;
      for (const pid of fresh) pidUids.delete(pid);
      const tried = new Set<number>();
      const skipped: number[] = [];
      for (const pid of [...fresh, ...recentOwners, ...old]) {
        if (tried.has(pid)) continue;
        tried.add(pid);
        if (uid !== null && pidUid(pid) !== uid) {
          skipped.push(pid);
          continue;
        }
        if (scanPid(pid, inode)) return touchOwner(pid);
      }
      // A setuid program or a passed descriptor can put a socket in a process of another uid.
      for (const pid of skipped) if (scanPid(pid, inode)) return touchOwner(pid);
      return null;
    },
    counters: () => ({ ownerCacheHits, ownerScans }),
    clear() {
      known.clear();
      recentOwners = [];
      lastPids = new Set();
      lastSeenPid = 0;
      pidUids.clear();
      fdSnapshots.clear();
      pidMax = 0;
    },
  };
}
