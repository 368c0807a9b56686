/**
 * NO_PROXY matching, in the common curl/Go shape: comma- or space-separated entries; `*` matches
 * everything; `example.com`, `.example.com` and `*.example.com` match the domain and its
 * subdomains; `host:port` limits an entry to a port; IP literals match exactly. CIDR blocks
 * (`10.0.0.0/8`, `fd00::/8`) are an extension for IP-literal targets only (no DNS lookups here).
 */
import { BlockList, isIP } from 'node:net';

export type NoProxyMatcher = Readonly<{
  /** True when a connection to host:port must bypass the upstream proxy. */
  bypass(host: string, port: number): boolean;
  /** True when the list is empty (nothing bypasses). */
  empty: boolean;
}>;

type Entry = Readonly<{ kind: 'all' } | { kind: 'domain'; name: string; port: number | null } | { kind: 'ip'; ip: string; port: number | null }>;

/** Compiles a NO_PROXY value once; malformed entries are ignored (as clients do). */
export function compileNoProxy(value: string | undefined): NoProxyMatcher {
  const entries: Entry[] = [];
  const cidrs = new BlockList();
  let hasCidr = false;
  for (const raw of (value ?? '').split(/[\s,]+/)) {
    const item = raw.trim().toLowerCase();
    if (!item) continue;
    if (item === '*') {
      entries.push({ kind: 'all' });
      continue;
    }
    const slash = item.indexOf('/');
    if (slash > 0) {
      const net = item.slice(0, slash);
      const bits = Number(item.slice(slash + 1));
      const family = isIP(net);
      if (family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128)) {
        cidrs.addSubnet(net, bits, family === 4 ? 'ipv4' : 'ipv6');
        hasCidr = true;
      }
      continue;
    }
    const { host, port } = splitHostPort(item);
    if (!host) continue;
    if (isIP(host) !== 0) entries.push({ kind: 'ip', ip: host, port });
    else entries.push({ kind: 'domain', name: host.replace(/^\*?\./, '').replace(/\.$/, ''), port });
  }
  return {
    empty: entries.length === 0 && !hasCidr,
    bypass(hostIn, port) {
      const host = hostIn.toLowerCase().replace(/\.$/, '');
      const family = isIP(host);
      if (hasCidr && family !== 0 && cidrs.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
      for (const e of entries) {
        if (e.kind === 'all') return true;
        if (e.port !== null && e.port !== port) continue;
        if (e.kind === 'ip') {
          if (family !== 0 && e.ip === host) return true;
        } else if (family === 0 && (host === e.name || host.endsWith(`.${e.name}`))) {
          return true;
        }
      }
      return false;
    },
  };
}

function splitHostPort(item: string): { host: string; port: number | null } {
  if (item.startsWith('[')) {
    const close = item.indexOf(']');
    if (close < 0) return { host: '', port: null };
    const port = item[close + 1] === ':' ? toPort(item.slice(close + 2)) : null;
    return { host: item.slice(1, close), port };
  }
  if (isIP(item) === 6) return { host: item, port: null };
  const colon = item.lastIndexOf(':');
  if (colon < 0) return { host: item, port: null };
  const port = toPort(item.slice(colon + 1));
  return port === null ? { host: '', port: null } : { host: item.slice(0, colon), port };
}

function toPort(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}
