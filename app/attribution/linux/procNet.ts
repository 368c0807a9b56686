/**
 * Parser for Linux /proc/net/tcp and /proc/net/tcp6: one socket per line, addresses as hex words in
 * host byte order, ports as big hex numbers. Pure text in, entries out; no file access here.
 * @see https://www.kernel.org/doc/Documentation/networking/proc_net_tcp.txt
 */
import { endianness } from 'node:os';
import { canonicalIp } from '../address.ts';

/** Kernel TCP states (include/net/tcp_states.h), as printed in the "st" column. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

/** States in which a client socket is still held by a process (a half-closed client still counts). */
const HELD_STATES = new Set([1, 4, 5, 8, 9, 11]);

export type TcpEntry = Readonly<{
  /** Canonical IP (see canonicalIp): IPv4-mapped IPv6 addresses come out as IPv4. */
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  state: number;
  /** Owner uid of the socket (who created it). */
  uid: number;
  /** Socket inode; 0 when no process holds it (TIME_WAIT, orphaned). */
  inode: number;
}>;

/** The four endpoints of the socket looked for, from its own point of view, as canonical IPs. */
export type TcpQuery = Readonly<{ localIp: string; localPort: number; remoteIp: string; remotePort: number }>;

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Decodes one hex address column: 8 hex digits are IPv4, 32 are IPv6 (four 32-bit words). Each
 * word is printed as a host-order integer, so on little-endian machines its bytes come reversed.
 * Returns the canonical IP, or null for malformed text.
 */
export function decodeProcAddress(hex: string, littleEndian: boolean = HOST_LITTLE_ENDIAN): string | null {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(word + i, word + i + 2), 16));
    bytes.push(...(littleEndian ? wordBytes.reverse() : wordBytes));
  }
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return canonicalIp(groups.join(':'));
}

/** Parses one table line; null for the header or anything malformed. */
export function parseTcpLine(line: string, littleEndian: boolean = HOST_LITTLE_ENDIAN): TcpEntry | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || !/^\d+:$/.test(f[0] ?? '')) return null;
  const local = splitAddress(f[1] ?? '', littleEndian);
  const remote = splitAddress(f[2] ?? '', littleEndian);
  const state = hexInt(f[3] ?? '');
  const uid = decInt(f[7] ?? '');
  const inode = decInt(f[9] ?? '');
  if (!local || !remote || state === null || uid === null || inode === null) return null;
  return { localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port, state, uid, inode };
}

/** Every well-formed entry of a table (malformed lines are skipped). */
export function parseProcNetTcp(text: string, littleEndian: boolean = HOST_LITTLE_ENDIAN): TcpEntry[] {
  const out: TcpEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = parseTcpLine(line, littleEndian);
    if (entry) out.push(entry);
  }
  return out;
}

/**
 * Finds the socket with exactly these endpoints that a process still holds. Only lines whose text
 * contains the local port are parsed, so the cost stays near that of reading the file. When several
 * lines match (a TIME_WAIT leftover beside a live socket), a held one with an inode wins.
 */
export function findTcpEntry(text: string, query: TcpQuery, littleEndian: boolean = HOST_LITTLE_ENDIAN): TcpEntry | null {
  const needle = `:${query.localPort.toString(16).toUpperCase().padStart(4, '0')} `;
  let best: TcpEntry | null = null;
  let from = 0;
  for (;;) {
    const hit = text.indexOf(needle, from);
    if (hit < 0) break;
    const start = text.lastIndexOf('\n', hit) + 1;
    const endAt = text.indexOf('\n', hit);
    const end = endAt < 0 ? text.length : endAt;
    from = end;
    const entry = parseTcpLine(text.slice(start, end), littleEndian);
    if (!entry || !sameEndpoints(entry, query)) continue;
    if (HELD_STATES.has(entry.state) && entry.inode !== 0) return entry;
    best ??= entry;
  }
  return best;
}

/** Whether a socket in this state with a nonzero inode can be tied to a process. */
export function isHeld(entry: Readonly<{ state: number; inode: number }>): boolean {
  return entry.inode !== 0 && HELD_STATES.has(entry.state);
}

function sameEndpoints(entry: TcpEntry, query: TcpQuery): boolean {
  return entry.localPort === query.localPort && entry.remotePort === query.remotePort && entry.localIp === query.localIp && entry.remoteIp === query.remoteIp;
}

function splitAddress(text: string, littleEndian: boolean): { ip: string; port: number } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const ip = decodeProcAddress(text.slice(0, colon), littleEndian);
  const port = hexInt(text.slice(colon + 1));
  if (ip === null || port === null || port > 0xffff || text.length - colon - 1 !== 4) return null;
  return { ip, port };
}

function hexInt(text: string): number | null {
  return /^[0-9A-Fa-f]{1,8}$/.test(text) ? Number.parseInt(text, 16) : null;
}

function decInt(text: string): number | null {
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}
