/**
 * IP address canonical forms for comparing what Node reports for a socket with what the OS tables
 * print: IPv4 dotted quads, IPv6 as eight zero-padded lowercase groups, IPv4-mapped IPv6 as IPv4.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ConnectionEndpoints } from './types.ts';

/**
 * The canonical form of an address, or null when it is not an IP address. "::ffff:127.0.0.1" and
 * "127.0.0.1" are the same endpoint (a dual-stack listener sees IPv4 clients as mapped addresses).
 */
export function canonicalIp(address: string): string | null {
  let text = address.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (isIPv4(text)) return text;
  if (!isIPv6(text)) return null;
  const groups = expandIpv6(text);
  if (groups === null) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
}

/** True for 127.0.0.0/8 and ::1 (canonical or not). */
export function isLoopback(address: string): boolean {
  const ip = canonicalIp(address);
  if (ip === null) return false;
  return ip.startsWith('127.') || ip === '0000:0000:0000:0000:0000:0000:0000:0001';
}

/** Short display form: IPv4 as is, IPv6 compressed and bracketed with the port. */
export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${compressIpv6(ip)}]:${port}` : `${ip}:${port}`;
}

/** The client socket as its own process sees it: both IPs canonical. */
export type ClientView = Readonly<{ localIp: string; localPort: number; remoteIp: string; remotePort: number }>;

/** The client socket's own view (local = client, remote = proxy), or an error message for bad input. */
export function clientView(conn: ConnectionEndpoints): ClientView | string {
  const client = typeof conn.remoteAddress === 'string' ? canonicalIp(conn.remoteAddress) : null;
  const proxy = typeof conn.localAddress === 'string' ? canonicalIp(conn.localAddress) : null;
  if (client === null || proxy === null) return 'the connection has no IP endpoints (closed before attribution, or not TCP)';
  if (!validPort(conn.remotePort) || !validPort(conn.localPort)) return 'the connection has an invalid port';
  return { localIp: client, localPort: conn.remotePort, remoteIp: proxy, remotePort: conn.localPort };
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535;
}

/** The eight 16-bit groups of a valid IPv6 literal (which may end in a dotted IPv4 part). */
function expandIpv6(text: string): number[] | null {
  let body = text.toLowerCase();
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (isIPv4(last)) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return null;
  return groups;
}

function compressIpv6(canonical: string): string {
  const groups = canonical.split(':').map((g) => Number.parseInt(g, 16).toString(16));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
