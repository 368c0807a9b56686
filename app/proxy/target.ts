/**
 * Parses and validates what a client asks the proxy to reach: absolute-form request targets and
 * CONNECT authorities (RFC 9112 §3.2.2-3.2.3), loopback checks and proxy-loop detection.
 * Results are values: a target or the reason it is refused.
 */
import { isIP } from 'node:net';

export type Target = Readonly<{
  /** Lower-case host name, dotted IPv4, or IPv6 without brackets. */
  host: string;
  port: number;
  /** path + query, always starting with "/" (absolute-form only). */
  path: string;
}>;

export type TargetResult = Readonly<{ ok: true; target: Target }> | Readonly<{ ok: false; reason: string }>;

/** Origin-form path the proxy answers itself (liveness for `cordon run` and health checks). */
export const HEALTH_PATH = '/.cordon/health';

const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9_][a-z0-9_-]{0,62}(?:\.[a-z0-9_][a-z0-9_-]{0,62})*$/;
const PORT_RE = /^[0-9]{1,5}$/;

/** A CONNECT target: `host:port` or `[v6]:port`, no userinfo, port 1-65535. */
export function parseConnectTarget(authority: string | undefined): TargetResult {
  if (!authority) return fail('the CONNECT target is empty');
  if (authority.includes('@')) return fail('the CONNECT target must not contain userinfo');
  if (authority.includes('/')) return fail('the CONNECT target must be host:port, not a URL');
  let hostPart: string;
  let portPart: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0 || authority[close + 1] !== ':') return fail('the CONNECT target has a malformed IPv6 address or no port');
    hostPart = authority.slice(1, close);
    portPart = authority.slice(close + 2);
    if (isIP(hostPart) !== 6) return fail('the CONNECT target has a malformed IPv6 address');
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon < 0) return fail('the CONNECT target has no port');
    hostPart = authority.slice(0, colon);
    portPart = authority.slice(colon + 1);
    if (hostPart.includes(':')) return fail('an IPv6 CONNECT target must be in brackets');
  }
  const port = parsePort(portPart);
  if (port === null) return fail('the CONNECT target port must be 1-65535');
  const host = normalizeHost(hostPart);
  if (host === null) return fail('the CONNECT target host is empty or not a valid host name');
  return { ok: true, target: { host, port, path: '' } };
}

/** An absolute-form target (`http://host[:port]/path?query`); only http and ws schemes. */
export function parseAbsoluteTarget(url: string | undefined): TargetResult {
  if (!url) return fail('the request target is empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return fail('the request target is not an absolute URL');
  if (scheme === 'https' || scheme === 'wss') return fail('send https through a CONNECT tunnel, not as an absolute-form request');
  if (scheme !== 'http' && scheme !== 'ws') return fail(`the ${scheme} scheme is not proxied`);
  const rest = url.slice(scheme.length + 3);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  if (authority.includes('@')) return fail('the request target must not contain userinfo');
  let parsed: URL;
  try {
    parsed = new URL(`http://${authority}/`);
  } catch {
    return fail('the request target has a malformed host or port');
  }
  if (parsed.username || parsed.password) return fail('the request target must not contain userinfo');
  const host = normalizeHost(parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname);
  if (host === null) return fail('the request target host is empty or not a valid host name');
  const port = parsed.port === '' ? 80 : parsePort(parsed.port);
  if (port === null) return fail('the request target port must be 1-65535');
  let path = end < 0 ? '/' : rest.slice(end);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path.startsWith('?')) path = `/${path}`;
  if (path === '') path = '/';
  return { ok: true, target: { host, port, path } };
}

/** The authority form for headers and CONNECT lines: brackets around IPv6, port always present. */
export function authorityOf(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The Host header value: the port is left out when it is the scheme's default. */
export function hostHeaderOf(host: string, port: number, defaultPort: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (a === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(a)) return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** True when host:port would come back to this proxy (any loopback name or the wildcard address). */
export function isProxyLoop(host: string, port: number, proxyPort: number): boolean {
  if (port !== proxyPort) return false;
  return host === 'localhost' || host.endsWith('.localhost') || host === '0.0.0.0' || host === '::' || isLoopbackAddress(host);
}

/** Strips the query string from a path: events and logs never carry it (it may hold secrets). */
export function pathWithoutQuery(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/**
 * One spelling per host, so policy cannot be sidestepped by another one: WHATWG host parsing turns
 * numeric IPv4 forms (0x7f.1) into dotted quads, IDNs into punycode and compresses IPv6; the
 * trailing root dot is dropped.
 */
function normalizeHost(raw: string): string | null {
  if (raw.length === 0 || raw.length > 255) return null;
  let host: string;
  try {
    host = new URL(`http://${isIP(raw) === 6 ? `[${raw}]` : raw}/`).hostname;
  } catch {
    return null;
  }
  if (host.startsWith('[')) return host.slice(1, -1);
  if (isIP(host) === 4) return host;
  host = host.replace(/\.$/, '');
  return HOSTNAME_RE.test(host) ? host : null;
}

function parsePort(text: string): number | null {
  if (!PORT_RE.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

function fail(reason: string): TargetResult {
  return { ok: false, reason };
}
