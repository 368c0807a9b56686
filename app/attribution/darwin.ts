/**
 * The macOS ProcessSource: the client's socket from `lsof -F` (field output), processes from one
 * `ps` table, command lines from `ps -o args=` and working dirs from `lsof -d cwd`. The parsers are
 * pure and tested on captured text; each tool call is bounded in time and output. Slower than
 * Linux (each lookup spawns tools), so the table and per-process details are cached briefly.
 */
import type { ProcessInfo } from '../api/enforcement.ts';
import { canonicalIp, clientView, formatEndpoint } from './address.ts';
import { runTool } from './exec.ts';
import type { LocalSocket, ProcessSource, RawProcess, SocketOwner } from './types.ts';

const TABLE_TTL_MS = 2000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One process set of `lsof -F` output: the process fields and its open files. */
export type LsofProcess = Readonly<{ pid: number; command: string | null; uid: number | null; ppid: number | null; files: readonly LsofFile[] }>;
export type LsofFile = Readonly<{ fd: string; name: string | null; tcpState: string | null }>;

/** One row of `ps -axww -o pid=,ppid=,uid=,user=,stat=,tty=,lstart=,comm=`. */
export type PsRow = Readonly<{ pid: number; ppid: number; uid: number; user: string; stat: string; tty: string; startTimeMs: number | null; comm: string }>;

/**
 * Parses `lsof -F` output: each line is a field letter and its value; 'p' starts a process set,
 * 'f' a file set within it; "TST=ESTABLISHED" lines carry the TCP state.
 * @see lsof(8) "OUTPUT FOR OTHER PROGRAMS"
 */
export function parseLsofFields(text: string): LsofProcess[] {
  const out: { pid: number; command: string | null; uid: number | null; ppid: number | null; files: { fd: string; name: string | null; tcpState: string | null }[] }[] = [];
  let proc: (typeof out)[number] | undefined;
  let file: { fd: string; name: string | null; tcpState: string | null } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.length < 2) continue;
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') {
      const pid = Number(value);
      proc = Number.isSafeInteger(pid) && pid > 0 ? { pid, command: null, uid: null, ppid: null, files: [] } : undefined;
      if (proc) out.push(proc);
      file = undefined;
    } else if (!proc) {
      continue;
    } else if (field === 'c') proc.command = value;
    else if (field === 'u') proc.uid = toInt(value);
    else if (field === 'R') proc.ppid = toInt(value);
    else if (field === 'f') {
      file = { fd: value, name: null, tcpState: null };
      proc.files.push(file);
    } else if (field === 'n') {
      // Without the 'f' field selected, a name starts an implicit file set.
      if (!file) {
        file = { fd: '', name: null, tcpState: null };
        proc.files.push(file);
      }
      file.name = value;
    }
    else if (field === 'T' && file && value.startsWith('ST=')) file.tcpState = value.slice(3);
  }
  return out;
}

/** Splits an lsof socket name "127.0.0.1:5000->127.0.0.1:8080" or "[::1]:5000->[::1]:8080" into canonical endpoints. */
export function parseLsofSocketName(name: string): { localIp: string; localPort: number; remoteIp: string | null; remotePort: number | null } | null {
  const [local, remote] = name.split('->');
  const l = splitHostPort(local ?? '');
  if (!l) return null;
  if (remote === undefined) return { localIp: l.ip, localPort: l.port, remoteIp: null, remotePort: null };
  const r = splitHostPort(remote);
  return r ? { localIp: l.ip, localPort: l.port, remoteIp: r.ip, remotePort: r.port } : null;
}

/** Parses the ps table; rows that do not fit the column layout are skipped. */
export function parsePsTable(text: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    rows.push({ pid: Number(m[1]), ppid: Number(m[2]), uid: Number(m[3]), user: m[4] ?? '', stat: m[5] ?? '', tty: m[6] ?? '', startTimeMs: parseLstart(m[7] ?? ''), comm: m[8] ?? '' });
  }
  return rows;
}

/** Parses `ps -ww -o pid=,args=` rows into pid -> argv (split on whitespace: ps does not quote). */
export function parsePsArgs(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.*?)\s*$/.exec(line);
    if (m) out.set(Number(m[1]), (m[2] ?? '').split(/\s+/).filter(Boolean));
  }
  return out;
}

/** "Mon Jan  2 10:04:05 2026" (ps lstart, local time, C locale) -> ms since epoch. */
export function parseLstart(text: string): number | null {
  const m = /^\w{3}\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$/.exec(text.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1] ?? '');
  if (month < 0) return null;
  return new Date(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime();
}

export function createDarwinSource(): ProcessSource {
  let table: { at: number; rows: Map<number, PsRow> } | null = null;
  const details = new Map<string, { argv: string[]; cwd: string | null }>();
  let ownerScans = 0;
  let processCacheHits = 0;
  let processReads = 0;

  const loadTable = async (force: boolean): Promise<Map<number, PsRow>> => {
    if (!force && table && Date.now() - table.at < TABLE_TTL_MS) return table.rows;
    const res = await runTool('ps', ['-axww', '-o', 'pid=,ppid=,uid=,user=,stat=,tty=,lstart=,comm=']);
    const rows = res.ok ? parsePsTable(res.stdout) : [];
    table = { at: Date.now(), rows: new Map(rows.map((r) => [r.pid, r])) };
    return table.rows;
  };

  /** Fetches argv and cwd for a pid and its ancestors in two tool calls. */
  const loadDetails = async (pid: number, rows: Map<number, PsRow>): Promise<void> => {
    const pids: number[] = [];
    for (let p: number | undefined = pid; p !== undefined && p > 1 && pids.length < 32 && !pids.includes(p); p = rows.get(p)?.ppid) pids.push(p);
    const list = pids.join(',');
    const [args, cwds] = await Promise.all([runTool('ps', ['-ww', '-o', 'pid=,args=', '-p', list]), runTool('lsof', ['-nP', '-w', '-a', '-p', list, '-d', 'cwd', '-Ffn'])]);
    const argvs = args.ok ? parsePsArgs(args.stdout) : new Map<number, string[]>();
    const cwdOf = new Map((cwds.ok ? parseLsofFields(cwds.stdout) : []).map((p) => [p.pid, p.files[0]?.name ?? null]));
    for (const p of pids) {
      const row = rows.get(p);
      if (row) details.set(`${p}:${row.startTimeMs}`, { argv: argvs.get(p) ?? [row.comm], cwd: cwdOf.get(p) ?? null });
    }
  };

  return {
    platform: 'darwin',
    async findSocketOwner(conn, { allowOtherUsers }): Promise<SocketOwner> {
      const view = clientView(conn);
      if (typeof view === 'string') return { found: false, code: 'bad-input', message: view };
      ownerScans++;
      const from = formatEndpoint(view.localIp, view.localPort);
      const res = await runTool('lsof', ['-nP', '-w', `-iTCP@${lsofHost(view.localIp)}:${view.localPort}`, '-FpcuRfnT']);
      if (!res.ok) return { found: false, code: 'lookup-failed', message: res.message };
      for (const proc of parseLsofFields(res.stdout)) {
        for (const file of proc.files) {
          // The proxy's own end of the connection matches the filter too; only the client's end has local = client.
          const ends = file.name ? parseLsofSocketName(file.name) : null;
          if (!ends || ends.localIp !== view.localIp || ends.localPort !== view.localPort || ends.remoteIp !== view.remoteIp || ends.remotePort !== view.remotePort) continue;
          const myUid = typeof process.getuid === 'function' ? process.getuid() : null;
          if (!allowOtherUsers && proc.uid !== null && myUid !== null && proc.uid !== myUid) {
            return { found: false, code: 'other-user', message: `the socket from ${from} belongs to another user (uid ${proc.uid})` };
          }
          return { found: true, pid: proc.pid };
        }
      }
      return { found: false, code: 'socket-not-found', message: `no local TCP socket from ${from} to ${formatEndpoint(view.remoteIp, view.remotePort)}: the client closed it, or it is another user's` };
    },
    async readProcess(pid): Promise<RawProcess | null> {
      let rows = await loadTable(false);
      if (!rows.has(pid)) rows = await loadTable(true);
      const row = rows.get(pid);
      if (!row) return null;
      const key = `${pid}:${row.startTimeMs}`;
      if (details.has(key)) processCacheHits++;
      else {
        processReads++;
        await loadDetails(pid, rows);
      }
      const detail = details.get(key) ?? { argv: [row.comm], cwd: null };
      const info: ProcessInfo = {
        pid,
        ppid: row.ppid > 0 ? row.ppid : null,
        exe: row.comm.startsWith('/') ? row.comm : null,
        argv: detail.argv,
        uid: row.uid,
        user: row.user,
        cwd: detail.cwd,
        startTimeMs: row.startTimeMs,
      };
      // ps STAT "s" marks a session leader; "??" is no controlling terminal.
      return { info, sessionLeader: row.stat.includes('s') && row.tty !== '??' };
    },
    async socketsByLocalPort(port): Promise<LocalSocket[]> {
      if (!Number.isInteger(port) || port < 1 || port > 65535) return [];
      const res = await runTool('lsof', ['-nP', '-w', `-iTCP:${port}`, '-FpfnT']);
      if (!res.ok) return [];
      const out: LocalSocket[] = [];
      for (const proc of parseLsofFields(res.stdout)) {
        for (const file of proc.files) {
          const ends = file.name ? parseLsofSocketName(file.name) : null;
          if (!ends || ends.localPort !== port) continue;
          out.push({ localAddress: ends.localIp, localPort: ends.localPort, remoteAddress: ends.remoteIp ?? '', remotePort: ends.remotePort ?? 0, state: file.tcpState ?? 'UNKNOWN', pid: proc.pid });
        }
      }
      return out;
    },
    counters: () => ({ ownerCacheHits: 0, ownerScans, processCacheHits, processReads, netlinkLookups: 0, tableScans: ownerScans }),
    close: () => {},
    clearCaches() {
      table = null;
      details.clear();
    },
  };
}

function splitHostPort(text: string): { ip: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  const ip = canonicalIp(text.slice(0, colon));
  const port = Number(text.slice(colon + 1));
  if (ip === null || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { ip, port };
}

function lsofHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function toInt(text: string): number | null {
  return /^-?\d+$/.test(text) ? Number(text) : null;
}
