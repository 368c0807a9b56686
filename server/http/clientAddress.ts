/**
 * The address of the client behind a request, for the sign-in rate limit and the logs. Behind a
 * reverse proxy every connection comes from the proxy, so a per-address limit would put every
 * user in one bucket. When the TCP peer is one of the configured trusted proxies, the client is
 * the right-most X-Forwarded-For entry that is not itself a trusted proxy (the one the nearest
 * trusted hop saw). Otherwise, and whenever the header is missing or holds something that is not
 * an IP address, the client is the TCP peer: nobody can choose their own bucket by sending the
 * header, and a proxy that is not configured is not believed.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** At most this many X-Forwarded-For entries are looked at (a longer chain is cut, not parsed). */
const MAX_HOPS = 20;

export type TrustedProxies = Readonly<{
  /** Whether this address (IPv4, IPv6, or IPv4-mapped IPv6) is a trusted proxy. */
  has(address: string): boolean;
  size: number;
}>;

/**
 * Parses `--trusted-proxy` values: IP addresses or CIDR ranges (10.0.0.0/8, fd00::/8). Throws an
 * Error naming the bad entry.
 */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  let size = 0;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) throw new Error(`'${entry}' is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
    } else {
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) throw new Error(`'${entry}' has a bad prefix length`);
      list.addSubnet(address, prefix, type);
    }
    size++;
  }
  return {
    has(address) {
      const plain = unmapped(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
    size,
  };
}

/** The client's address (see the file comment); 'unknown' when the socket has none. */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return 'unknown';
  const direct = unmapped(peer);
  if (trusted.size === 0 || !trusted.has(direct)) return direct;
  const header = req.headersDistinct['x-forwarded-for'];
  if (header === undefined) return direct;
  const hops = header.join(',').split(',').slice(-MAX_HOPS).map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i] ?? '');
    if (isIP(hop) === 0) return direct;
    if (!trusted.has(hop)) return hop;
  }
  return direct;
}

/** ::ffff:192.0.2.1 (an IPv4 client of a dual-stack socket) is 192.0.2.1. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match?.[1] ?? address;
}
