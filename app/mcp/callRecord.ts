/**
 * What the gateway records about one tools/call: the argument NAMES and a SHA-256 over the
 * canonical JSON of the arguments. Values never leave this module.
 */
import { createHash } from 'node:crypto';
import type { McpCallDetails } from '../api/control.ts';

const MAX_ARG_NAMES = 64;
const MAX_NAME_LENGTH = 128;

/** Names (sorted, capped) and the hash of `arguments`; a non-object counts as no names. */
export function callDetails(args: unknown): McpCallDetails {
  const names = typeof args === 'object' && args !== null && !Array.isArray(args) ? Object.keys(args).sort() : [];
  return {
    argNames: names.slice(0, MAX_ARG_NAMES).map((n) => (n.length > MAX_NAME_LENGTH ? `${n.slice(0, MAX_NAME_LENGTH)}...` : n)),
    argsHash: `sha256:${sha256Hex(canonicalJson(args ?? null))}`,
  };
}

/**
 * JSON with object keys sorted at every depth (RFC 8785-like; numbers as JavaScript prints
 * them), so equal arguments hash equally whatever order the client wrote them in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
