/**
 * Project roots, from where the clients record them: ~/.claude.json `projects`, Codex
 * `[projects."<path>"]`, VS Code-family workspaceStorage/*\/workspace.json (folder and workspace
 * URIs), Antigravity's project files, opencode's SQLite store, plus the configured roots. Each root
 * is checked to exist and deduplicated by real path; the first spelling seen is kept.
 */
import { stat } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { claudeJsonPath } from './claudeCode.ts';
import { codexHome } from './codex.ts';
import type { ConfigStore } from './configStore.ts';
import { withDeadline, type FsIndex } from './fsIndex.ts';
import { isRecord, type Project, type WorkspaceFile } from './model.ts';
import { opencodeProjects } from './opencodeProjects.ts';
import { editorDataDirs } from './vscodeFamily.ts';

/** Upper bound on projects scanned (a hostile registry may list millions). */
export const MAX_PROJECTS = 5_000;

export type ProjectDiscovery = Readonly<{
  projects: readonly Project[];
  workspaceFiles: readonly WorkspaceFile[];
  /** Maps a project path as some client spells it to the chosen root (itself when unknown). */
  projectRoot(path: string): string;
  /** A string that changes whenever projectRoot() would answer differently. */
  projectRootsKey: string;
}>;

type Candidate = { path: string; claude?: Record<string, unknown> };

/** Every project root the clients record plus the configured ones, deduplicated, existing only. */
export async function discoverProjects(ctx: DiscoveryContext, store: ConfigStore, fs: FsIndex): Promise<ProjectDiscovery> {
  const [claude, codex, editors, antigravity, opencode] = await Promise.all([
    claudeProjects(ctx, store),
    codexProjects(ctx, store),
    editorProjects(ctx, store, fs),
    antigravityProjects(ctx, store, fs),
    opencodeProjects(ctx, store, fs),
  ]);
  const candidates: Candidate[] = [
    ...ctx.projectRoots.map((path) => ({ path })),
    ...claude,
    ...codex,
    ...editors.roots,
    ...antigravity,
    ...opencode.map((path) => ({ path })),
  ].filter((c) => isAbsolute(c.path));

  const unique = new Map<string, Candidate>();
  for (const candidate of candidates) {
    const path = normalize(candidate.path);
    const known = unique.get(path);
    if (!known) unique.set(path, { ...candidate, path });
    else if (candidate.claude && !known.claude) known.claude = candidate.claude;
    if (unique.size >= MAX_PROJECTS) break;
  }
  if (candidates.length > MAX_PROJECTS && unique.size >= MAX_PROJECTS) {
    store.error({ path: ctx.home, category: 'too-large', message: `more than ${MAX_PROJECTS} projects recorded; the rest were not scanned` });
  }

  // Existence and identity (device and inode: one stat, where realpath costs a syscall per path
  // component) of each root; two spellings of one directory become one project.
  const resolved = await Promise.all([...unique.values()].map(async (c) => ({ c, real: await withDeadline(directoryIdentity(c.path), ctx.fileTimeoutMs, undefined) })));
  const byIdentity = new Map<string, Project>();
  const alias = new Map<string, string>();
  for (const { c, real } of resolved) {
    if (real === undefined) continue;
    const existing = byIdentity.get(real);
    if (existing) {
      if (c.claude && !existing.claude) existing.claude = c.claude;
      alias.set(c.path, existing.root);
      continue;
    }
    const project: Project = { root: c.path, ...(c.claude ? { claude: c.claude } : {}) };
    byIdentity.set(real, project);
    alias.set(c.path, c.path);
  }
  return {
    projects: [...byIdentity.values()],
    workspaceFiles: editors.workspaceFiles,
    projectRoot: (path) => alias.get(normalize(path)) ?? normalize(path),
    projectRootsKey: [...alias].filter(([from, to]) => from !== to).map(([from, to]) => `${from}\u0000${to}`).sort().join('\u0001'),
  };
}

async function claudeProjects(ctx: DiscoveryContext, store: ConfigStore): Promise<Candidate[]> {
  const loaded = await store.load(claudeJsonPath(ctx), 'json', 'claude-code');
  if (loaded.kind !== 'ok' || !isRecord(loaded.value) || !isRecord(loaded.value.projects)) return [];
  return Object.entries(loaded.value.projects).map(([path, entry]) => (isRecord(entry) ? { path, claude: entry } : { path }));
}

async function codexProjects(ctx: DiscoveryContext, store: ConfigStore): Promise<Candidate[]> {
  const loaded = await store.load(join(codexHome(ctx), 'config.toml'), 'toml', 'codex');
  if (loaded.kind !== 'ok' || !isRecord(loaded.value) || !isRecord(loaded.value.projects)) return [];
  return Object.keys(loaded.value.projects).map((path) => ({ path }));
}

/** workspaceStorage/<hash>/workspace.json: {"folder": "file:///..."} or {"workspace": "file:///...code-workspace"}. */
async function editorProjects(ctx: DiscoveryContext, store: ConfigStore, fs: FsIndex): Promise<{ roots: Candidate[]; workspaceFiles: WorkspaceFile[] }> {
  // Results are gathered per editor and joined in a fixed order: the scan's output must not depend on IO timing.
  const perEditor = await Promise.all(
    editorDataDirs(ctx).map(async ({ client, dir }) => {
      const storage = join(dir, 'User', 'workspaceStorage');
      store.watch(storage);
      const walked = await fs.walk(storage, { maxDepth: 1, match: (name, path) => name === 'workspace.json' && dirname(dirname(path)) === storage });
      for (const error of walked.errors) store.error({ ...error, client });
      const docs = await Promise.all(walked.files.map((file) => store.load(file, 'json', client)));
      const roots: Candidate[] = [];
      const workspaceUris: string[] = [];
      for (const loaded of docs) {
        if (loaded.kind !== 'ok' || !isRecord(loaded.value)) continue;
        const folder = fileUriToPath(loaded.value.folder, ctx.platform);
        if (folder) roots.push({ path: folder });
        if (typeof loaded.value.workspace === 'string') workspaceUris.push(loaded.value.workspace);
      }
      const workspaces = await Promise.all(
        [...new Set(workspaceUris)].map(async (uri): Promise<WorkspaceFile | undefined> => {
          const path = fileUriToPath(uri, ctx.platform);
          if (!path) return undefined;
          const loaded = await store.load(path, 'json', client);
          return { client, path, folders: loaded.kind === 'ok' ? workspaceFolders(loaded.value, dirname(path), ctx.platform) : [] };
        }),
      );
      const workspaceFiles = workspaces.filter((w): w is WorkspaceFile => w !== undefined);
      for (const ws of workspaceFiles) roots.push(...ws.folders.map((path) => ({ path })));
      return { roots, workspaceFiles };
    }),
  );
  return { roots: perEditor.flatMap((e) => e.roots), workspaceFiles: perEditor.flatMap((e) => e.workspaceFiles) };
}

/** `folders[].path` (relative to the workspace file) or `folders[].uri`. */
function workspaceFolders(doc: unknown, base: string, platform: NodeJS.Platform): string[] {
  if (!isRecord(doc) || !Array.isArray(doc.folders)) return [];
  const out: string[] = [];
  for (const folder of doc.folders.slice(0, 1000)) {
    if (!isRecord(folder)) continue;
    if (typeof folder.path === 'string' && folder.path.length > 0) out.push(resolve(base, folder.path));
    else {
      const path = fileUriToPath(folder.uri, platform);
      if (path) out.push(path);
    }
  }
  return out;
}

/** ~/.gemini/config/projects/*.json: projectResources.resources[].folderUri. */
async function antigravityProjects(ctx: DiscoveryContext, store: ConfigStore, fs: FsIndex): Promise<Candidate[]> {
  const dir = join(ctx.home, '.gemini', 'config', 'projects');
  store.watch(dir);
  const walked = await fs.walk(dir, { maxDepth: 0, match: (name) => name.endsWith('.json') });
  for (const error of walked.errors) store.error({ ...error, client: 'antigravity' });
  const docs = await Promise.all(walked.files.map((file) => store.load(file, 'json', 'antigravity')));
  const out: Candidate[] = [];
  for (const loaded of docs) {
    if (loaded.kind !== 'ok') continue;
    const resources = isRecord(loaded.value) && isRecord(loaded.value.projectResources) ? loaded.value.projectResources.resources : undefined;
    if (!Array.isArray(resources)) continue;
    for (const resource of resources.slice(0, 1000)) {
      const path = isRecord(resource) ? fileUriToPath(resource.folderUri, ctx.platform) : undefined;
      if (path) out.push({ path });
    }
  }
  return out;
}

/** A local file: URI to a path; remote URIs (vscode-remote://, ssh) are not local projects. */
export function fileUriToPath(uri: unknown, platform: NodeJS.Platform): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file://')) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (platform === 'win32' && /^\/[A-Za-z]:/.test(path)) path = path.slice(1);
  if (url.host && url.host !== 'localhost') path = `//${url.host}${path}`;
  return path.length > 0 ? path : undefined;
}

function directoryIdentity(path: string): Promise<string | undefined> {
  return new Promise((resolve) => stat(path, (error, info) => resolve(!error && info.isDirectory() ? `${info.dev}:${info.ino}` : undefined)));
}

function normalize(path: string): string {
  const resolved = resolve(path);
  return resolved.length > 1 ? resolved.replace(/[/\\]+$/, '') : resolved;
}
