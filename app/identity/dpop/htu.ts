/**
 * htu comparison: both the proof's htu and the request URL are normalized (syntax- and
 * scheme-based, RFC 3986 §6.2.2-6.2.3) and stripped of userinfo, query and fragment before they
 * are compared. The WHATWG URL parser does case, default-port and dot-segment normalization;
 * this adds percent-encoding normalization.
 * @see RFC 9449 §4.3 step 9
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The normalized comparison form of an http(s) URL, or null when it is not one. */
export function normalizeHtu(value: string | URL): string | null {
  let url: URL;
  try {
    url = typeof value === 'string' ? new URL(value) : new URL(value.href);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const path = url.pathname === '' ? '/' : normalizePercentEncoding(url.pathname);
  return `${url.protocol}//${url.host}${path}`;
}

/** Uppercases percent-encoding hex digits and decodes percent-encoded unreserved characters (RFC 3986 §6.2.2.1-2). */
function normalizePercentEncoding(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}
