/**
 * Addresses as policy sees them: strict parsing of the IPs, CIDRs and host patterns a policy file
 * names, and normalization of the host a request names (case, IDN, trailing dot, and the odd IPv4
 * spellings such as "2852039166" or "0xa9.254.169.254" that clients resolve like the dotted form).
 */
import { domainToASCII } from 'node:url';

/** An IP address as bytes: 4 for IPv4, 16 for IPv6 (IPv4-mapped IPv6 is folded to IPv4). */
export type IpBytes = Uint8Array;

export type Cidr = Readonly<{ bytes: IpBytes; prefix: number }>;

/** A request's destination after normalization. */
export type NormalizedHost =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'ip'; readonly bytes: IpBytes; readonly text: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PLAIN_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/;
const NUMERIC_LABEL = /^(0x[0-9a-f]*|[0-9]+)$/;

/** Strict dotted-quad IPv4 ("10.0.0.1"), as written in a policy file. */
export function parseIPv4(text: string): IpBytes | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** RFC 4291 text form, with "::" and a trailing dotted IPv4; no zone ids. IPv4-mapped folds to 4 bytes. */
export function parseIPv6(text: string): IpBytes | null {
  if (text.length < 2 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i] ?? '';
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return foldMapped(bytes);
}

/** An IP as written in a policy: IPv4 or IPv6. */
export function parseIp(text: string): IpBytes | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** "10.0.0.0/8" or "fd00::/8"; host bits must be zero so the network is what the author meant. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return 'must be an address followed by /prefix, e.g. "10.0.0.0/8" (put single addresses in ips:)';
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const isV6 = addrText.includes(':');
  const raw = isV6 ? parseIPv6Raw(addrText) : parseIPv4(addrText);
  if (!raw) return `"${addrText.slice(0, 64)}" is not a valid ${isV6 ? 'IPv6' : 'IPv4'} address`;
  const max = raw.length * 8;
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) return `the prefix length must be 0-${max}`;
  const prefix = Number(prefixText);
  for (let bit = prefix; bit < max; bit++) {
    if (bitAt(raw, bit) === 1) return `host bits are set after /${prefix} (did you mean ${networkText(raw, prefix)}?)`;
  }
  // An IPv4-mapped network (::ffff:0:0/96 and longer) is matched as IPv4.
  if (raw.length === 16 && prefix >= 96 && isMapped(raw)) return { bytes: raw.subarray(12), prefix: prefix - 96 };
  return { bytes: raw, prefix };
}

/** The bit at `index` (0 = most significant bit of byte 0). */
export function bitAt(bytes: IpBytes, index: number): number {
  return ((bytes[index >> 3] ?? 0) >> (7 - (index & 7))) & 1;
}

/**
 * A host pattern from a policy: "**", "*.example.com" or "example.com". Returns the canonical
 * ASCII form, or a message saying what is wrong.
 */
export function parseHostPattern(text: string): { kind: 'any' } | { kind: 'exact' | 'suffix'; name: string } | string {
  if (text === '**') return { kind: 'any' };
  const wildcard = text.startsWith('*.');
  const body = wildcard ? text.slice(2) : text;
  if (parseIp(body) || (body.startsWith('[') && body.endsWith(']'))) return 'is an IP address: put addresses in ips: or cidrs:';
  if (body.includes('*')) return '"*" is allowed only as the whole first label ("*.example.com") or as "**"';
  const ascii = domainToASCII(body.endsWith('.') ? body.slice(0, -1) : body);
  if (ascii === '') return 'is not a valid host name';
  const labels = ascii.split('.');
  if (ascii.length > 253 || labels.some((l) => !LABEL.test(l))) return 'is not a valid host name (labels are 1-63 letters, digits or "-")';
  if (NUMERIC_LABEL.test(labels[labels.length - 1] ?? '')) return 'ends in a number, so clients treat it as an IPv4 address: use ips:';
  return { kind: wildcard ? 'suffix' : 'exact', name: ascii };
}

/**
 * The destination a request names, canonicalized the way clients resolve it (WHATWG URL host
 * parsing). Null when it is not a valid host at all.
 */
export function normalizeRequestHost(host: string): NormalizedHost | null {
  if (host.length === 0 || host.length > 1024) return null;
  let h = host.toLowerCase();
  // Fast path: a plain ASCII name whose last label is not a number needs no URL parsing.
  if (PLAIN_NAME.test(h)) {
    if (h.endsWith('.')) h = h.slice(0, -1);
    const last = h.slice(h.lastIndexOf('.') + 1);
    if (!NUMERIC_LABEL.test(last)) return { kind: 'name', name: h };
  }
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (h.includes(':')) {
    const bytes = parseIPv6(zone >= 0 ? h.slice(0, zone) : h);
    return bytes ? { kind: 'ip', bytes, text: ipText(bytes) } : null;
  }
  let parsed: string;
  try {
    parsed = new URL(`http://${h}/`).hostname;
  } catch {
    return null;
  }
  if (parsed.endsWith('.')) parsed = parsed.slice(0, -1);
  const v4 = parseIPv4(parsed);
  if (v4) return { kind: 'ip', bytes: v4, text: parsed };
  return parsed === '' ? null : { kind: 'name', name: parsed };
}

/** Canonical text of an address (dotted IPv4, compressed lowercase IPv6). */
export function ipText(bytes: IpBytes): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function parseIPv6Raw(text: string): IpBytes | null {
  const folded = parseIPv6(text);
  if (!folded) return null;
  if (folded.length === 16) return folded;
  const raw = new Uint8Array(16);
  raw[10] = 0xff;
  raw[11] = 0xff;
  raw.set(folded, 12);
  return raw;
}

function isMapped(bytes: IpBytes): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function foldMapped(bytes: IpBytes): IpBytes {
  return isMapped(bytes) ? bytes.slice(12) : bytes;
}

function networkText(bytes: IpBytes, prefix: number): string {
  const net = bytes.slice();
  for (let bit = prefix; bit < net.length * 8; bit++) net[bit >> 3] = (net[bit >> 3] ?? 0) & ~(1 << (7 - (bit & 7)));
  return `${ipText(net)}/${prefix}`;
}
