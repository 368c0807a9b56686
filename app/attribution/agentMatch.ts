/**
 * Which process in a principal chain is a coding agent. Pure: the inventory is compiled into an
 * AgentIndex once (paths resolved by an injected resolver), then matchAgent walks the chain from
 * the connection's process upward and takes the nearest agent, by its executable, by the script
 * an interpreter runs (node cli.js, bash claude, python aider), or by the install dir either lies in.
 */
import { posix, win32 } from 'node:path';
import type { AgentPrincipal, ProcessInfo } from '../api/enforcement.ts';
import type { AgentRecord, Inventory } from '../api/inventory.ts';
import { knownAgentByBin, knownAgentByPath, type KnownAgent } from './knownAgents.ts';

/** A resolved path: realpath and whether it is a directory. Null when it does not exist. */
export type PathInfo = Readonly<{ real: string; isDirectory: boolean }>;

export type AgentIndex = Readonly<{
  /** Normalized paths of agent executables and scripts (declared and real) -> record. */
  files: ReadonlyMap<string, AgentRecord>;
  /** Install dirs (extension dirs, app bundles, npm package roots, version dirs), longest first. */
  dirs: readonly Readonly<{ prefix: string; record: AgentRecord }>[];
  /** False when built from no inventory: then known names are matched instead (low confidence). */
  hasInventory: boolean;
  /** Whether known executable names are matched even with an inventory (default: only without one). */
  nameFallback: boolean;
  platform: NodeJS.Platform;
}>;

/** How a process was recognized; "known-*" matches have no inventory record and a synthetic id. */
export type MatchVia = 'exe' | 'script' | 'install-dir' | 'known-path' | 'known-name';

export type AgentMatch = Readonly<{
  agent: AgentPrincipal;
  via: MatchVia;
  /** Position of the agent process in the chain (0 = the connection's own process). */
  chainIndex: number;
}>;

export type AgentIndexOptions = Readonly<{
  /** Resolves symlinks; default: the path as given, not a directory. Tests pass a table. */
  resolve?: (path: string) => PathInfo | null;
  platform?: NodeJS.Platform;
  /** Also match known executable names when the inventory has no match (lower confidence). */
  nameFallback?: boolean;
}>;

const INTERPRETER_RE = /^(?:node(?:js)?\d*|bun|deno|python[\d.]*w?|pypy[\d.]*|sh|bash|dash|zsh|ksh|fish|perl|ruby)$/;

/** Interpreter flags that consume the next argument (so it is not the script). */
const VALUE_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--input-type', '--title', '-W', '-X', '-o', '+o', '-O', '+O']);

/** Flags after which there is no script file (inline code, a module name, stdin). */
const NO_SCRIPT_FLAGS = new Set(['-e', '--eval', '-p', '--print', '-c', '-m', '-', '-i']);

/** Compiles an inventory into the lookup tables matchAgent uses. */
export function buildAgentIndex(inventory: Inventory | null, options: AgentIndexOptions = {}): AgentIndex {
  const platform = options.platform ?? process.platform;
  const resolve = options.resolve ?? ((path: string): PathInfo => ({ real: path, isDirectory: false }));
  const files = new Map<string, AgentRecord>();
  const dirs: { prefix: string; record: AgentRecord }[] = [];
  const norm = (p: string): string => normalizePath(p, platform);
  const sep = platform === 'win32' ? '\\' : '/';
  for (const record of inventory?.agents ?? []) {
    if (typeof record.path !== 'string' || record.path === '') continue;
    const info = resolve(record.path);
    const real = info?.real ?? record.path;
    if (info?.isDirectory) {
      dirs.push({ prefix: norm(real), record });
      if (real !== record.path) dirs.push({ prefix: norm(record.path), record });
      continue;
    }
    files.set(norm(record.path), record);
    files.set(norm(real), record);
    const root = installRoot(real, platform);
    if (root !== null) dirs.push({ prefix: norm(root), record });
    const appDir = pathOf(platform).dirname(real);
    if (record.installType !== 'cli' && ownsDir(appDir, platform)) {
      // A desktop app's binary in its own dir: its helpers and bundled tools live beside it.
      dirs.push({ prefix: norm(appDir), record });
    }
  }
  dirs.sort((a, b) => b.prefix.length - a.prefix.length);
  return { files, dirs: dirs.filter((d) => d.prefix.length > 3 && d.prefix !== sep), hasInventory: inventory !== null, nameFallback: options.nameFallback ?? false, platform };
}

/**
 * The nearest agent in a chain (self first), or null. `resolve` maps a script path to its real
 * path (default: unchanged); the process's exe is taken as already resolved (the OS reports it so).
 */
export function matchAgent(chain: readonly ProcessInfo[], index: AgentIndex, resolve: (path: string) => string = (p) => p): AgentMatch | null {
  if (index.hasInventory) {
    for (let i = 0; i < chain.length; i++) {
      const proc = chain[i];
      if (!proc) continue;
      const hit = matchInventory(proc, index, resolve);
      if (hit) return { agent: principalOf(hit.record.id, hit.record, proc), via: hit.via, chainIndex: i };
    }
    if (!index.nameFallback) return null;
  }
  for (let i = 0; i < chain.length; i++) {
    const proc = chain[i];
    if (!proc) continue;
    const hit = matchKnown(proc, index.platform, resolve);
    if (hit) return { agent: principalOf(`kind:${hit.known.kind}`, hit.known, proc), via: hit.via, chainIndex: i };
  }
  return null;
}

/** The script an interpreter process runs (argv[1] past interpreter flags), or null. */
export function scriptArgument(argv: readonly string[]): string | null {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (NO_SCRIPT_FLAGS.has(arg)) return null;
    if (arg === '--') return argv[i + 1] ?? null;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-') || arg.startsWith('+')) continue;
    if (i === 1 && (arg === 'run' || arg === 'x')) continue; // bun run x.js, deno run x.ts
    return arg;
  }
  return null;
}

/** Whether an executable basename is a script interpreter (node, python3.12, bash, ...). */
export function isInterpreter(executable: string, platform: NodeJS.Platform = process.platform): boolean {
  const base = pathOf(platform).basename(executable).toLowerCase().replace(/\.exe$/, '');
  return INTERPRETER_RE.test(base);
}

type Candidate = Readonly<{ path: string; via: 'exe' | 'script' }>;

function candidates(proc: ProcessInfo, platform: NodeJS.Platform, resolve: (path: string) => string): Candidate[] {
  const out: Candidate[] = [];
  const exe = proc.exe === null ? null : stripDeleted(proc.exe);
  if (exe) out.push({ path: exe, via: 'exe' });
  const interpreter = exe ?? proc.argv[0] ?? '';
  if (interpreter !== '' && isInterpreter(interpreter, platform)) {
    const script = scriptArgument(proc.argv);
    if (script !== null && script !== '') {
      const p = pathOf(platform);
      const absolute = p.isAbsolute(script) ? script : proc.cwd ? p.resolve(proc.cwd, script) : script;
      out.push({ path: resolve(absolute), via: 'script' });
      if (absolute !== out[out.length - 1]?.path) out.push({ path: absolute, via: 'script' });
    }
  }
  return out;
}

function matchInventory(proc: ProcessInfo, index: AgentIndex, resolve: (path: string) => string): { record: AgentRecord; via: MatchVia } | null {
  const sep = index.platform === 'win32' ? '\\' : '/';
  const list = candidates(proc, index.platform, resolve);
  for (const c of list) {
    const record = index.files.get(normalizePath(c.path, index.platform));
    if (record) return { record, via: c.via };
  }
  for (const c of list) {
    const path = normalizePath(c.path, index.platform);
    const dir = index.dirs.find((d) => path.startsWith(d.prefix + sep));
    if (dir) return { record: dir.record, via: 'install-dir' };
  }
  return null;
}

function matchKnown(proc: ProcessInfo, platform: NodeJS.Platform, resolve: (path: string) => string): { known: KnownAgent; via: MatchVia } | null {
  const list = candidates(proc, platform, resolve);
  for (const c of list) {
    const known = knownAgentByPath(c.path);
    if (known) return { known, via: 'known-path' };
  }
  const p = pathOf(platform);
  const names = [...list.map((c) => p.basename(c.path)), proc.argv[0] ? p.basename(proc.argv[0]) : ''];
  for (const name of names) {
    const known = name === '' ? undefined : knownAgentByBin(name);
    if (known) return { known, via: 'known-name' };
  }
  return null;
}

function principalOf(id: string, source: Readonly<{ kind: string; name: string }>, proc: ProcessInfo): AgentPrincipal {
  return { id, kind: source.kind, name: source.name, pid: proc.pid, exe: proc.exe };
}

/**
 * The dir an agent's file is installed in, when it owns that dir: an npm package root
 * (…/node_modules/@scope/pkg) or a native installer's versions dir (…/claude/versions/2.1.0).
 */
function installRoot(real: string, platform: NodeJS.Platform): string | null {
  const sep = platform === 'win32' ? '\\' : '/';
  const parts = real.split(platform === 'win32' ? /[\\/]/ : '/');
  const nm = parts.lastIndexOf('node_modules');
  if (nm >= 0 && nm + 1 < parts.length - 1) {
    const scoped = (parts[nm + 1] ?? '').startsWith('@');
    const end = nm + (scoped ? 3 : 2);
    if (end <= parts.length - 1) return parts.slice(0, end).join(sep);
  }
  const p = pathOf(platform);
  if (p.basename(p.dirname(real)) === 'versions') return p.dirname(real);
  return null;
}

/** A dir that belongs to one app (not a shared bin dir such as /usr/bin, and not near the root). */
function ownsDir(dir: string, platform: NodeJS.Platform): boolean {
  const p = pathOf(platform);
  const depth = dir.split(platform === 'win32' ? /[\\/]+/ : /\/+/).filter(Boolean).length;
  return depth >= 3 && !['bin', 'sbin', 'libexec'].includes(p.basename(dir).toLowerCase());
}

function stripDeleted(exe: string): string {
  return exe.endsWith(' (deleted)') ? exe.slice(0, -' (deleted)'.length) : exe;
}

function normalizePath(path: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return win32.normalize(path).toLowerCase();
  if (platform === 'darwin') return posix.normalize(path).toLowerCase();
  return posix.normalize(path);
}

function pathOf(platform: NodeJS.Platform): typeof posix {
  return platform === 'win32' ? win32 : posix;
}
