/**
 * Clients whose MCP config is the shared JSON shape (a `mcpServers` map, or Crush's `mcp` map) and
 * differ only in where the files live: Cursor, Windsurf, Copilot CLI, Cline CLI, Roo Code and
 * Kilo Code projects, Antigravity, Kiro, Amazon Q, LM Studio, Crush, Sema4.ai Studio, and the
 * JetBrains family (AI Assistant's ~/.ai/mcp, Junie, Air). One table row per client.
 */
import { dirname, join } from 'node:path';
import { xdgConfigHome, type DiscoveryContext } from '../context.ts';
import { at, mcpServersMap, readServerMap, standardReader, wrappedOrFlatServers } from './entries.ts';
import { fileSource, type ClientModule, type Extractor, type FileSource, type Source } from './model.ts';

/** Files of one JSON kind in a directory (agents/*.json), or plugin trees holding mcp.json files. */
type DirSpec = Readonly<{ dir: string; depth: number; names?: readonly string[]; scope: 'user' | 'plugin' | 'project' }>;

type Spec = Readonly<{
  client: string;
  /** The key holding the server map ("mcpServers" unless stated). */
  key?: string;
  user?: (ctx: DiscoveryContext) => readonly string[];
  userDirs?: (ctx: DiscoveryContext) => readonly DirSpec[];
  /** Paths relative to a project root. */
  project?: readonly (readonly string[])[];
  projectDirs?: readonly Readonly<{ path: readonly string[]; names?: readonly string[] }>[];
}>;

const PLUGIN_FILES = ['mcp.json', '.mcp.json'];

const SPECS: readonly Spec[] = [
  {
    client: 'cursor',
    user: (ctx) => [join(ctx.home, '.cursor', 'mcp.json')],
    userDirs: (ctx) => ['cache', 'local'].map((sub) => ({ dir: join(ctx.home, '.cursor', 'plugins', sub), depth: 6, names: PLUGIN_FILES, scope: 'plugin' as const })),
    project: [['.cursor', 'mcp.json']],
  },
  { client: 'windsurf', user: (ctx) => [join(ctx.home, '.codeium', 'windsurf', 'mcp_config.json')] },
  { client: 'windsurf-next', user: (ctx) => [join(ctx.home, '.codeium', 'windsurf-next', 'mcp_config.json')] },
  { client: 'copilot-cli', user: (ctx) => [join(ctx.env.COPILOT_HOME ?? join(ctx.home, '.copilot'), 'mcp-config.json')] },
  { client: 'cline', user: (ctx) => [join(ctx.env.CLINE_DIR ?? join(ctx.home, '.cline'), 'data', 'settings', 'cline_mcp_settings.json')] },
  { client: 'roo-code', project: [['.roo', 'mcp.json']] },
  { client: 'kilo-code', project: [['.kilocode', 'mcp.json']] },
  {
    client: 'antigravity',
    user: (ctx) => [join(ctx.home, '.gemini', 'antigravity', 'mcp_config.json'), join(ctx.home, '.gemini', 'config', 'mcp_config.json')],
  },
  {
    client: 'kiro',
    user: (ctx) => [join(ctx.home, '.kiro', 'settings', 'mcp.json')],
    userDirs: (ctx) => [
      { dir: join(ctx.home, '.kiro', 'agents'), depth: 0, scope: 'user' },
      { dir: join(ctx.home, '.kiro', 'powers', 'installed'), depth: 1, names: ['mcp.json'], scope: 'plugin' },
    ],
    project: [['.kiro', 'settings', 'mcp.json']],
    projectDirs: [{ path: ['.kiro', 'agents'] }],
  },
  {
    client: 'amazon-q',
    user: (ctx) => [join(ctx.home, '.aws', 'amazonq', 'mcp.json')],
    userDirs: (ctx) => [
      { dir: join(ctx.home, '.aws', 'amazonq', 'cli-agents'), depth: 0, scope: 'user' },
      { dir: join(ctx.home, '.aws', 'amazonq', 'agents'), depth: 0, scope: 'user' },
    ],
    project: [['.amazonq', 'mcp.json']],
    projectDirs: [{ path: ['.amazonq', 'cli-agents'] }],
  },
  { client: 'lm-studio', user: (ctx) => [join(ctx.home, '.lmstudio', 'mcp.json'), join(ctx.home, '.cache', 'lm-studio', 'mcp.json')] },
  { client: 'sema4ai-studio', user: (ctx) => [join(ctx.home, '.sema4ai', 'sema4ai-studio', 'mcp_servers.json')] },
  {
    client: 'crush',
    key: 'mcp',
    user: (ctx) => [
      ctx.platform === 'win32'
        ? join(ctx.env.LOCALAPPDATA ?? join(ctx.home, 'AppData', 'Local'), 'crush', 'crush.json')
        : join(xdgConfigHome(ctx), 'crush', 'crush.json'),
    ],
    project: [['.crush.json'], ['crush.json']],
  },
  { client: 'jetbrains-ai', user: (ctx) => [join(ctx.home, '.ai', 'mcp', 'mcp.json')], project: [['.ai', 'mcp', 'mcp.json']] },
  {
    client: 'junie',
    userDirs: (ctx) => [{ dir: join(ctx.home, '.junie', 'mcp'), depth: 0, scope: 'user' }],
    projectDirs: [{ path: ['.junie', 'mcp'] }],
  },
  { client: 'jetbrains-air', project: [['.air', 'mcp.json']] },
];

function extractorFor(spec: Spec): Extractor {
  const key = spec.key ?? 'mcpServers';
  if (key === 'mcpServers') return mcpServersMap;
  const read = standardReader();
  return (doc, ex) => readServerMap(at(doc, [key], ex), ex, read, key);
}

function dirSource(spec: Spec, dir: DirSpec, project: string | null): Source {
  const extract = dir.scope === 'plugin' ? wrappedOrFlatServers : extractorFor(spec);
  const names = dir.names;
  return {
    kind: 'dir',
    dir: dir.dir,
    maxDepth: dir.depth,
    match: (name, path) => (names ? names.includes(name) : name.endsWith('.json')) && (dir.depth > 0 || dirname(path) === dir.dir),
    make: (path): FileSource => fileSource(spec.client, path, 'json', dir.scope, project, `${spec.client}-${dir.scope}-dir`, extract),
    skip: new Set(['node_modules', '.git']),
  };
}

/** Every client of the table above. */
export const standardClients: ClientModule = {
  userSources({ ctx }) {
    const sources: Source[] = [];
    for (const spec of SPECS) {
      const extract = extractorFor(spec);
      for (const path of spec.user?.(ctx) ?? []) sources.push(fileSource(spec.client, path, 'json', 'user', null, `${spec.client}-config`, extract));
      for (const dir of spec.userDirs?.(ctx) ?? []) sources.push(dirSource(spec, dir, null));
    }
    return sources;
  },
  projectSources(_sc, project) {
    const sources: Source[] = [];
    for (const spec of SPECS) {
      const extract = extractorFor(spec);
      for (const rel of spec.project ?? []) {
        sources.push(fileSource(spec.client, join(project.root, ...rel), 'json', 'project', project.root, `${spec.client}-config`, extract));
      }
      for (const dir of spec.projectDirs ?? []) {
        sources.push(dirSource(spec, { dir: join(project.root, ...dir.path), depth: 0, scope: 'project', ...(dir.names ? { names: dir.names } : {}) }, project.root));
      }
    }
    return sources;
  },
};
