/**
 * The Windows ProcessSource: the client's socket from `netstat -ano` (pid in the last column; the
 * state column is localized, so matching is by address only), processes from one PowerShell
 * `Get-CimInstance Win32_Process` call as JSON. Pure parsers tested on captured text; the process
 * table is cached briefly because PowerShell takes hundreds of milliseconds to start. User names
 * and working dirs are not available this way and stay null.
 */
import type { ProcessInfo } from '../api/enforcement.ts';
import { canonicalIp, clientView, formatEndpoint } from './address.ts';
import { runTool } from './exec.ts';
import type { LocalSocket, ProcessSource, RawProcess, SocketOwner } from './types.ts';

const TABLE_TTL_MS = 5000;
const POWERSHELL_SCRIPT =
  'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,ExecutablePath,CommandLine,CreationDate | ConvertTo-Json -Compress';
/** Where the human's desktop session starts: the chain stops at these. */
const SESSION_ROOTS = new Set(['explorer.exe', 'winlogon.exe', 'wininit.exe', 'services.exe']);

export type NetstatRow = Readonly<{ localIp: string; localPort: number; remoteIp: string; remotePort: number; state: string; pid: number }>;

export type Win32ProcessRow = Readonly<{ pid: number; ppid: number | null; exe: string | null; commandLine: string | null; startTimeMs: number | null }>;

/** Parses `netstat -ano` TCP rows (IPv4 and [IPv6]); headers, UDP rows and junk are skipped. */
export function parseNetstat(text: string): NetstatRow[] {
  const rows: NetstatRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'TCP' || f.length < 5) continue;
    const local = splitHostPort(f[1] ?? '');
    const remote = splitHostPort(f[2] ?? '');
    const pid = Number(f[f.length - 1]);
    if (!local || !remote || !Number.isSafeInteger(pid) || pid < 0) continue;
    rows.push({ localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port, state: f.slice(3, -1).join(' '), pid });
  }
  return rows;
}

/** Parses the ConvertTo-Json output (one object or an array); entries without a numeric ProcessId are skipped. */
export function parseWin32Processes(text: string): Win32ProcessRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return [];
  }
  const list = Array.isArray(data) ? data : [data];
  const rows: Win32ProcessRow[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    if (typeof o.ProcessId !== 'number' || !Number.isSafeInteger(o.ProcessId)) continue;
    rows.push({
      pid: o.ProcessId,
      ppid: typeof o.ParentProcessId === 'number' ? o.ParentProcessId : null,
      exe: typeof o.ExecutablePath === 'string' && o.ExecutablePath !== '' ? o.ExecutablePath : null,
      commandLine: typeof o.CommandLine === 'string' ? o.CommandLine : null,
      startTimeMs: parseCimDate(o.CreationDate),
    });
  }
  return rows;
}

/**
 * A CIM datetime as ConvertTo-Json writes it: "/Date(1700000000000)/" (Windows PowerShell 5.1),
 * an ISO string (PowerShell 7), or a DMTF string "20260102100405.123456+060".
 */
export function parseCimDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const legacy = /^\/Date\((-?\d+)\)\/$/.exec(value);
  if (legacy) return Number(legacy[1]);
  const dmtf = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{3})\d*([+-]\d{3})$/.exec(value);
  if (dmtf) {
    const [, y, mo, d, h, mi, s, ms, off] = dmtf;
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms)) - Number(off) * 60_000;
  }
  const iso = Date.parse(value);
  return Number.isNaN(iso) ? null : iso;
}

/**
 * Splits a Windows command line the way the C runtime does (CommandLineToArgvW): whitespace
 * separates, double quotes group, 2n backslashes before a quote become n, "" inside quotes is a quote.
 */
export function splitCommandLine(commandLine: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let hasArg = false;
  for (let i = 0; i < commandLine.length; i++) {
    const ch = commandLine[i];
    if (ch === '\\') {
      let n = 0;
      while (commandLine[i] === '\\') {
        n++;
        i++;
      }
      if (commandLine[i] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else inQuotes = !inQuotes;
      } else {
        current += '\\'.repeat(n);
        i--;
      }
      hasArg = true;
    } else if (ch === '"') {
      if (inQuotes && commandLine[i + 1] === '"') {
        current += '"';
        i++;
      } else inQuotes = !inQuotes;
      hasArg = true;
    } else if ((ch === ' ' || ch === '\t') && !inQuotes) {
      if (hasArg) args.push(current);
      current = '';
      hasArg = false;
    } else {
      current += ch;
      hasArg = true;
    }
  }
  if (hasArg) args.push(current);
  return args;
}

export function createWin32Source(): ProcessSource {
  let table: { at: number; rows: Map<number, Win32ProcessRow> } | null = null;
  let ownerScans = 0;
  let processReads = 0;
  let processCacheHits = 0;

  const loadTable = async (force: boolean): Promise<Map<number, Win32ProcessRow>> => {
    if (!force && table && Date.now() - table.at < TABLE_TTL_MS) return table.rows;
    processReads++;
    const res = await runTool('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', POWERSHELL_SCRIPT], { timeoutMs: 10_000 });
    const rows = res.ok ? parseWin32Processes(res.stdout) : [];
    table = { at: Date.now(), rows: new Map(rows.map((r) => [r.pid, r])) };
    return table.rows;
  };

  const netstat = async (): Promise<NetstatRow[] | string> => {
    const res = await runTool('netstat.exe', ['-ano']);
    return res.ok ? parseNetstat(res.stdout) : res.message;
  };

  return {
    platform: 'win32',
    async findSocketOwner(conn): Promise<SocketOwner> {
      const view = clientView(conn);
      if (typeof view === 'string') return { found: false, code: 'bad-input', message: view };
      ownerScans++;
      const rows = await netstat();
      if (typeof rows === 'string') return { found: false, code: 'lookup-failed', message: rows };
      const from = formatEndpoint(view.localIp, view.localPort);
      const row = rows.find((r) => r.localIp === view.localIp && r.localPort === view.localPort && r.remoteIp === view.remoteIp && r.remotePort === view.remotePort);
      if (!row) return { found: false, code: 'socket-not-found', message: `no local TCP socket from ${from} to ${formatEndpoint(view.remoteIp, view.remotePort)}: the client closed it` };
      if (row.pid === 0) return { found: false, code: 'socket-orphaned', message: `the socket from ${from} is held by no process` };
      return { found: true, pid: row.pid };
    },
    async readProcess(pid): Promise<RawProcess | null> {
      let rows = await loadTable(false);
      if (rows.has(pid)) processCacheHits++;
      else rows = await loadTable(true);
      const row = rows.get(pid);
      if (!row) return null;
      const info: ProcessInfo = {
        pid,
        ppid: row.ppid !== null && row.ppid > 0 ? row.ppid : null,
        exe: row.exe,
        argv: row.commandLine ? splitCommandLine(row.commandLine) : row.exe ? [row.exe] : [],
        uid: null,
        user: null,
        cwd: null,
        startTimeMs: row.startTimeMs,
      };
      const base = (row.exe ?? '').split('\\').pop()?.toLowerCase() ?? '';
      return { info, sessionLeader: SESSION_ROOTS.has(base) };
    },
    async socketsByLocalPort(port): Promise<LocalSocket[]> {
      const rows = await netstat();
      if (typeof rows === 'string') return [];
      return rows
        .filter((r) => r.localPort === port)
        .map((r) => ({ localAddress: r.localIp, localPort: r.localPort, remoteAddress: r.remoteIp, remotePort: r.remotePort, state: r.state, pid: r.pid === 0 ? null : r.pid }));
    },
    counters: () => ({ ownerCacheHits: 0, ownerScans, processCacheHits, processReads, netlinkLookups: 0, tableScans: ownerScans }),
    close: () => {},
    clearCaches() {
      table = null;
    },
  };
}

function splitHostPort(text: string): { ip: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  const host = text.slice(0, colon);
  // "*:*" for listening sockets' remote end.
  const ip = host === '*' ? '0.0.0.0' : canonicalIp(host);
  const portText = text.slice(colon + 1);
  const port = portText === '*' ? 0 : Number(portText);
  if (ip === null || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { ip, port };
}
