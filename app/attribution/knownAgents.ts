/**
 * Names that identify a coding agent without an inventory: executable basenames, npm package dirs
 * and IDE extension ids. Used only as a low-confidence fallback (agent id "kind:<kind>") before
 * the first discovery scan; an inventory match by path always wins. Kinds match discovery's.
 */
import { CLI_AGENTS, EXTENSION_AGENTS } from '../discovery/agents/catalog.ts';

export type KnownAgent = Readonly<{
  kind: string;
  name: string;
  /** Executable basenames (no extension). */
  bins: readonly string[];
  /** npm package names whose install dir (…/node_modules/<pkg>/) holds the agent's script. */
  npm: readonly string[];
  /** VS Code-style extension ids whose dir (…/extensions/<id>-<version>/) holds the agent. */
  extensions: readonly string[];
}>;

/** Derived from discovery's catalog, so a fallback match carries the same kind the inventory would. */
export const KNOWN_AGENTS: readonly KnownAgent[] = buildKnownAgents();

function buildKnownAgents(): KnownAgent[] {
  const byKind = new Map<string, { kind: string; name: string; bins: string[]; npm: string[]; extensions: string[] }>();
  const entry = (kind: string, name: string) => {
    let e = byKind.get(kind);
    if (!e) byKind.set(kind, (e = { kind, name, bins: [], npm: [], extensions: [] }));
    return e;
  };
  for (const cli of CLI_AGENTS) {
    const e = entry(cli.kind, cli.name);
    e.bins.push(...cli.bins);
    e.npm.push(...(cli.npm ?? []));
  }
  for (const ext of EXTENSION_AGENTS) entry(ext.kind, ext.name).extensions.push(ext.extensionId);
  return [...byKind.values()];
}

const BY_BIN: ReadonlyMap<string, KnownAgent> = new Map(KNOWN_AGENTS.flatMap((a) => a.bins.map((b) => [b, a] as const)));

/** The agent an executable basename names ("claude", "codex.exe", "Claude.EXE"), if any. */
export function knownAgentByBin(basename: string): KnownAgent | undefined {
  return BY_BIN.get(basename.toLowerCase().replace(/\.(exe|cmd|bat|com|js|mjs|cjs)$/, ''));
}

const PATH_MARKERS: readonly (readonly [RegExp, KnownAgent])[] = KNOWN_AGENTS.flatMap((agent) => [
  ...agent.npm.map((pkg) => [new RegExp(`/node_modules/${escapeRe(pkg)}/`), agent] as const),
  ...agent.extensions.map((id) => [new RegExp(`/extensions/${escapeRe(id)}-\\d[^/]*/`, 'i'), agent] as const),
]);

/** The agent whose npm package dir or extension dir contains this path (either separator). */
export function knownAgentByPath(path: string): KnownAgent | undefined {
  const p = path.replaceAll('\\', '/');
  return PATH_MARKERS.find(([re]) => re.test(p))?.[1];
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
