/**
 * Small readers for untrusted hook input: typed field access that never throws, and the common
 * "mcp__<server>__<tool>" tool-name convention.
 */
import type { LocalAction } from '../api/policy.ts';

export type Json = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string field, or undefined. */
export function str(obj: Json | undefined, ...keys: string[]): string | undefined {
  if (!obj) return undefined;
  for (const key of keys) {
    const v = Object.hasOwn(obj, key) ? obj[key] : undefined;
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

export function obj(parent: Json | undefined, key: string): Json | undefined {
  if (!parent || !Object.hasOwn(parent, key)) return undefined;
  const v = parent[key];
  return isObject(v) ? v : undefined;
}

/** A command given as a string or an argv array (Codex "shell" passes ["bash", "-lc", "..."]). */
export function commandText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    const argv = value as string[];
    // A shell wrapper: the script is what runs.
    if (argv.length === 3 && /(^|\/)(ba|z|da)?sh$/.test(argv[0] ?? '') && /^-l?c$/.test(argv[1] ?? '')) return argv[2];
    return argv.join(' ');
  }
  return undefined;
}

/** "mcp__github__create_issue" -> {server: "github", tool: "create_issue"}; null for other names. */
export function mcpFromToolName(name: string): LocalAction | null {
  if (!name.startsWith('mcp__')) return null;
  const rest = name.slice(5);
  const cut = rest.indexOf('__');
  if (cut <= 0 || cut + 2 >= rest.length) return null;
  return { kind: 'mcp', server: rest.slice(0, cut), tool: rest.slice(cut + 2) };
}

/** A file action, or null when the path is missing. */
export function fileAction(path: string | undefined, operation: 'read' | 'write' | 'delete' | 'execute'): LocalAction | null {
  return path ? { kind: 'file', path, operation } : null;
}
