/**
 * Header handling for a forwarding intermediary: drops hop-by-hop fields (RFC 9110 §7.6.1) and the
 * names listed in Connection, and refuses request framing a proxy must not forward (RFC 9112 §6.3:
 * Content-Length with Transfer-Encoding, differing Content-Lengths, codings other than chunked).
 */
import type { IncomingMessage } from 'node:http';

/** Always hop-by-hop, whatever Connection says; Proxy-* belong to this hop only. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const DIGITS_RE = /^[0-9]{1,15}$/;

/** Raw request or response headers (name, value, name, value ...) without hop-by-hop fields. */
export function endToEndHeaders(rawHeaders: readonly string[], drop: ReadonlySet<string> = EMPTY): string[] {
  const listed = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || drop.has(lower) || (listed !== null && listed.has(lower))) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** Headers for a WebSocket upgrade: end-to-end ones plus `Connection: Upgrade` and `Upgrade`. */
export function upgradeHeaders(rawHeaders: readonly string[], drop: ReadonlySet<string> = EMPTY): string[] {
  const out = endToEndHeaders(rawHeaders, drop);
  out.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
  return out;
}

/**
 * Why a request's framing cannot be forwarded safely, or null. Node's parser already rejects most
 * smuggling shapes; this is the proxy's own second check on what the parser let through.
 */
export function framingProblem(req: IncomingMessage): string | null {
  const cl = req.headersDistinct['content-length'];
  const te = req.headersDistinct['transfer-encoding'];
  if (cl !== undefined && te !== undefined) return 'both Content-Length and Transfer-Encoding are present';
  if (cl !== undefined) {
    const values = cl.flatMap((v) => v.split(',')).map((v) => v.trim());
    if (!values.every((v) => DIGITS_RE.test(v))) return 'Content-Length is not a number';
    if (new Set(values).size > 1) return 'differing Content-Length values';
  }
  if (te !== undefined) {
    const codings = te.flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
    if (codings.length !== 1 || codings[0] !== 'chunked') return 'only Transfer-Encoding: chunked is accepted';
  }
  return null;
}

/** True when the request carries a body (so a refusal must close the connection rather than drain it). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** True for `Upgrade: websocket` requests (the only upgrade the proxy relays; h2c is not). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return req.method === 'GET' && typeof upgrade === 'string' && upgrade.trim().toLowerCase() === 'websocket';
}

/** The request's headers for the policy (names lower-cased; Node never stores undefined values). */
export function policyHeaders(req: IncomingMessage): Readonly<Record<string, string | readonly string[]>> {
  return req.headers as Readonly<Record<string, string | readonly string[]>>;
}

/** The first value of a header, or undefined. */
export function firstHeader(headers: IncomingMessage['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const EMPTY: ReadonlySet<string> = new Set();

function connectionTokens(rawHeaders: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    tokens ??= new Set();
    for (const t of (rawHeaders[i + 1] as string).split(',')) {
      const name = t.trim().toLowerCase();
      if (name) tokens.add(name);
    }
  }
  return tokens;
}
