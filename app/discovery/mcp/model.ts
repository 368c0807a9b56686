/**
 * The shapes MCP discovery passes between its parts: where a client keeps its configs (sources),
 * what a client-specific reader pulls out of one parsed file (raw servers), and the projects found.
 * Raw servers still hold values (env, headers) for credential classification; records never do.
 */
import type { CredentialFinding, McpScope, McpTransport } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import type { ConfigFormat } from './parse.ts';

/** A name/value pair as the config spells it; the value is only ever classified, never kept. */
export type NamedValue = readonly [name: string, value: unknown];

/** Something other than env or headers that may hold a secret (OAuth client secret, extension settings). */
export type SecretField = Readonly<{ location: CredentialFinding['location']; name: string; value: unknown }>;

export type RawServer = Readonly<{
  name: string;
  transport: McpTransport;
  command?: string;
  args?: readonly string[];
  url?: string;
  env?: readonly NamedValue[];
  /** Env var names forwarded from the client's own environment (Codex env_vars, Goose env_keys ...). */
  envPassthrough?: readonly string[];
  headers?: readonly NamedValue[];
  /** Credentials the client resolves itself (env-var headers, keyring, OAuth, helper commands). */
  references?: readonly CredentialFinding[];
  secretFields?: readonly SecretField[];
  enabled: boolean;
  /** Overrides of the source's scope and project (Claude Code local-scope entries in ~/.claude.json). */
  scope?: McpScope;
  project?: string | null;
}>;

/** Reports a problem in one entry (or the whole file, entry undefined) of the file being read. */
export type ExtractContext = Readonly<{
  ctx: DiscoveryContext;
  path: string;
  report(entry: string | undefined, message: string): void;
  /** Reads and parses another file the client would read (cached, watched, errors reported). */
  load(path: string, format: ConfigFormat): Promise<unknown>;
}>;

export type Extractor = (doc: unknown, ex: ExtractContext) => readonly RawServer[] | Promise<readonly RawServer[]>;

export type FileSource = Readonly<{
  kind: 'file';
  client: string;
  path: string;
  format: ConfigFormat;
  scope: McpScope;
  project: string | null;
  /** Names the reading (e.g. "vscode-mcp"): one client reading one real file one way counts once. */
  tag: string;
  extract: Extractor;
  /** What the extraction depends on besides the file (e.g. a project's declined list): part of the cache key. */
  deps?: string;
}>;

export type DirSource = Readonly<{
  kind: 'dir';
  dir: string;
  maxDepth: number;
  match: (name: string, path: string) => boolean;
  make: (path: string) => FileSource | undefined;
  /** Directory names never entered (node_modules, .git). */
  skip?: ReadonlySet<string>;
}>;

export type Source = FileSource | DirSource;

export type Project = {
  /** The root as first recorded (configured roots first, then client registries). */
  readonly root: string;
  /** The project's entry in ~/.claude.json `projects`, when Claude Code knows it. */
  claude?: Readonly<Record<string, unknown>>;
};

/** VS Code-family multi-root workspace files found through workspaceStorage. */
export type WorkspaceFile = Readonly<{ client: string; path: string; folders: readonly string[] }>;

export type SourceContext = Readonly<{
  ctx: DiscoveryContext;
  workspaceFiles: readonly WorkspaceFile[];
  /** Maps a project path as a client spells it to the chosen project root. */
  projectRoot(path: string): string;
  /** Changes whenever projectRoot() would answer differently (a cache key for what uses it). */
  projectRootsKey: string;
}>;

/** One client or client family: where its user-level and project-level configs live. */
export type ClientModule = Readonly<{
  userSources(sc: SourceContext): readonly Source[];
  projectSources?(sc: SourceContext, project: Project): readonly Source[];
}>;

/** Shorthand for a FileSource. */
export function fileSource(
  client: string,
  path: string,
  format: ConfigFormat,
  scope: McpScope,
  project: string | null,
  tag: string,
  extract: Extractor,
  deps?: string,
): FileSource {
  return { kind: 'file', client, path, format, scope, project, tag, extract, ...(deps !== undefined ? { deps } : {}) };
}

/** A plain (non-array, non-null) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
