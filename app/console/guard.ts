/**
 * The local console's request guard: which requests may reach the daemon's UI API. Pure
 * functions over headers, so the checks (DNS rebinding, CSRF, session) are tested as tables.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Why a request was refused, and the HTTP status it gets. */
export type GuardRefusal = { readonly status: 401 | 403; readonly reason: string };

/** The Host values that name this server: anything else is a rebound DNS name (403). */
export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Checks the Host header against loopback:port exactly. Applies to every request, static too. */
export function checkHost(headers: IncomingHttpHeaders, port: number): GuardRefusal | null {
  const host = headers.host;
  if (typeof host !== 'string' || !allowedHosts(port).includes(host.toLowerCase())) {
    return { status: 403, reason: 'foreign Host header: the console answers only to 127.0.0.1 or localhost on its own port' };
  }
  return null;
}

/**
 * Checks that an /api request comes from the console's own pages or a non-browser client:
 * Origin (when present) must be this server, and Sec-Fetch-Site must not be cross-site or same-site
 * (another port on localhost is "same-site" but a different origin).
 */
export function checkOrigin(headers: IncomingHttpHeaders, port: number): GuardRefusal | null {
  const origin = headers.origin;
  if (origin !== undefined) {
    const allowed = allowedHosts(port).map((h) => `http://${h}`);
    if (typeof origin !== 'string' || !allowed.includes(origin.toLowerCase())) {
      return { status: 403, reason: 'foreign Origin: only the console itself may call its API' };
    }
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, reason: 'cross-site request refused' };
  }
  return null;
}

/** Constant-time comparison of a presented secret or token with the expected one. */
export function sameSecret(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads one cookie by name from the Cookie header (null when absent or malformed). */
export function readCookie(headers: IncomingHttpHeaders, name: string): string | null {
  const header = headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** True when the request body is declared as JSON (what keeps HTML forms from posting to the API). */
export function isJsonContentType(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (typeof type !== 'string') return false;
  return type.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** The name of the session cookie: per port, since cookies are not isolated by port. */
export function sessionCookieName(port: number): string {
  return `cordon_session_${port}`;
}

/** The security headers every response carries. The CSP forbids inline script and framing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
