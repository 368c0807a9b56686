/**
 * Stable ids and definition fingerprints for inventory records. Ids name a thing (which agent
 * install, which server entry in which file); fingerprints hash what it is (command, URL, version),
 * so "same id, new fingerprint" is a change. Neither is ever derived from a secret value.
 */
import { createHash } from 'node:crypto';

/** A short stable id: a prefix plus 16 hex chars of SHA-256 over the parts. */
export function stableId(prefix: 'agent' | 'mcp', ...parts: readonly string[]): string {
  return `${prefix}_${sha256Hex(parts.join('\u0000')).slice(0, 16)}`;
}

/** SHA-256 (hex, first 32 chars) of a canonical JSON rendering: key order does not matter. */
export function fingerprint(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, 32);
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
