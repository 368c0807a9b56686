/**
 * Reads one Linux process from /proc/<pid>: stat (parent, session, terminal, start time), exe,
 * cmdline, cwd and the real uid from status. Reads are bounded; a vanished or foreign process
 * gives nulls, never a throw. ProcessInfo is cached per (pid, start time, exe) so pid reuse or an
 * exec cannot return a stale entry.
 */
import type { ProcessInfo } from '../../api/enforcement.ts';
import type { RawProcess } from '../types.ts';
import { readBounded, readlinkOrNull } from './read.ts';
import { createUserNames, type UserNames } from './users.ts';

/** Linux USER_HZ: 100 on every architecture the kernel ships for (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLOCK_TICKS_PER_SECOND = 100;
const MAX_STAT_BYTES = 4096;
const MAX_STATUS_BYTES = 16 * 1024;
const MAX_CMDLINE_BYTES = 64 * 1024;
const MAX_ARGS = 512;
const MAX_CACHE = 4096;

/** The fields of /proc/<pid>/stat that attribution uses. */
export type ProcStat = Readonly<{
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  session: number;
  /** Controlling terminal device number; 0 when the process has none. */
  ttyNr: number;
  /** Start time in clock ticks after boot. */
  startTicks: number;
}>;

export type ProcReader = {
  read(pid: number): RawProcess | null;
  counters(): Readonly<{ processCacheHits: number; processReads: number }>;
  clear(): void;
};

type CachedProcess = Readonly<{ key: string; exe: string | null; argv: readonly string[]; uid: number | null; user: string | null }>;

/**
 * Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces
 * and parentheses, so the fields are counted from the last ')'.
 * @see proc(5), /proc/pid/stat
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const ppid = Number(rest[1]);
  const session = Number(rest[3]);
  const ttyNr = Number(rest[4]);
  const startTicks = Number(rest[19]);
  if (![pid, ppid, session, ttyNr, startTicks].every(Number.isSafeInteger) || pid <= 0) return null;
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid, session, ttyNr, startTicks };
}

/** The real uid from the "Uid:" line of /proc/<pid>/status (real, effective, saved, fs). */
export function parseStatusUid(text: string): number | null {
  const match = /^Uid:\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** NUL-separated argv; the trailing NUL does not make an empty last argument. */
export function parseCmdline(bytes: Buffer): string[] {
  if (bytes.length === 0) return [];
  const text = bytes.toString('utf8');
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.slice(0, MAX_ARGS);
}

/** Boot time (ms since epoch) from the "btime" line of /proc/stat. */
export function parseBootTimeMs(text: string): number | null {
  const match = /^btime\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) * 1000 : null;
}

export function createProcReader(procRoot: string, users: UserNames = createUserNames()): ProcReader {
  const cache = new Map<string, CachedProcess>();
  let bootMs: number | null | undefined;
  let processCacheHits = 0;
  let processReads = 0;

  const bootTime = (): number | null => {
    if (bootMs === undefined) {
      const text = readBounded(`${procRoot}/stat`, 64 * 1024);
      bootMs = text ? parseBootTimeMs(text.toString('latin1')) : null;
    }
    return bootMs;
  };

  return {
    read(pid) {
      if (!Number.isSafeInteger(pid) || pid <= 0) return null;
      const dir = `${procRoot}/${pid}`;
      const statBytes = readBounded(`${dir}/stat`, MAX_STAT_BYTES);
      const stat = statBytes ? parseStat(statBytes.toString('utf8')) : null;
      if (!stat) return null;
      const exe = readlinkOrNull(`${dir}/exe`);
      const cwd = readlinkOrNull(`${dir}/cwd`);
      const key = `${pid}:${stat.startTicks}`;
      let cached = cache.get(key);
      if (cached && cached.exe === exe) {
        processCacheHits++;
      } else {
        processReads++;
        const cmdline = readBounded(`${dir}/cmdline`, MAX_CMDLINE_BYTES);
        const status = readBounded(`${dir}/status`, MAX_STATUS_BYTES);
        const uid = status ? parseStatusUid(status.toString('utf8')) : null;
        const argv = cmdline ? parseCmdline(cmdline) : [];
        cached = { key, exe, argv: argv.length > 0 ? argv : [stat.comm], uid, user: uid === null ? null : users.name(uid) };
        // An empty cmdline with an executable is a process caught inside execve (the new image is
        // in place, its arguments not yet): answer with its name, but read it again next time.
        const midExec = argv.length === 0 && exe !== null;
        if (!midExec) {
          if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
          cache.set(key, cached);
        }
      }
      const boot = bootTime();
      const info: ProcessInfo = {
        pid,
        ppid: stat.ppid > 0 ? stat.ppid : null,
        exe,
        argv: cached.argv,
        uid: cached.uid,
        user: cached.user,
        cwd,
        startTimeMs: boot === null ? null : boot + Math.round((stat.startTicks * 1000) / CLOCK_TICKS_PER_SECOND),
      };
      return { info, sessionLeader: stat.session === pid && stat.ttyNr !== 0 };
    },
    counters: () => ({ processCacheHits, processReads }),
    clear() {
      cache.clear();
      bootMs = undefined;
    },
  };
}
