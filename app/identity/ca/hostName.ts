/**
 * Turns the host a client asked for (CONNECT authority or SNI) into the subjectAltName a leaf
 * certificate carries: a lower-case ASCII DNS name (IDNs as punycode) or a canonical IP address.
 * Wildcards and anything that is not a plain host are refused.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type LeafHost = Readonly<{ type: 'dns' | 'ip'; value: string }>;

const LABEL_RE = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The SAN for a host, or null when it is not a usable host name or IP address. */
export function normalizeLeafHost(input: string): LeafHost | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > 300) return null;
  let host = input.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const family = isIP(host);
  if (family === 4) return { type: 'ip', value: host };
  if (family === 6) {
    if (host.includes('%')) return null; // zone ids never appear in certificates
    return { type: 'ip', value: new URL(`http://[${host}]/`).hostname.slice(1, -1) };
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const ascii = /^[\x21-\x7e]+$/.test(host) ? host.toLowerCase() : domainToASCII(host);
  if (ascii.length === 0 || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL_RE.test(label))) return null;
  // A numeric-looking last label would make this an IPv4 literal in disguise (e.g. "1.2.3.04").
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return null;
  return { type: 'dns', value: ascii };
}
