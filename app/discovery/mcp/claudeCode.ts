/**
 * Claude Code: ~/.claude.json (user scope, plus `projects.<path>.mcpServers` local scope), the
 * project's .mcp.json (with the per-project approve/deny lists), installed plugins, and the
 * managed-mcp.json that administrators deploy. CLAUDE_CONFIG_DIR moves the user files.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { at, readServerMap, standardReader, wrappedOrFlatServers } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type Project, type RawServer, type Source, type SourceContext } from './model.ts';

const CLIENT = 'claude-code';
const read = standardReader({ remoteDefault: 'http' });
const PLUGIN_SKIP = new Set(['node_modules', '.git']);

/** Where Claude Code keeps ~/.claude.json (the project registry too). */
export function claudeJsonPath(ctx: DiscoveryContext): string {
  const dir = ctx.env.CLAUDE_CONFIG_DIR;
  return dir ? join(dir, '.claude.json') : join(ctx.home, '.claude.json');
}

function configDir(ctx: DiscoveryContext): string {
  return ctx.env.CLAUDE_CONFIG_DIR ?? join(ctx.home, '.claude');
}

/** managed-mcp.json per OS (only with includeSystem). */
function managedPath(ctx: DiscoveryContext): string | undefined {
  if (ctx.platform === 'darwin') return '/Library/Application Support/ClaudeCode/managed-mcp.json';
  if (ctx.platform === 'win32') return join(ctx.env.ProgramW6432 ?? 'C:\\Program Files', 'ClaudeCode', 'managed-mcp.json');
  if (ctx.platform === 'linux') return '/etc/claude-code/managed-mcp.json';
  return undefined;
}

/** Claude Code's config locations (user, local, project, plugin and managed scope). */
export const claudeCode: ClientModule = {
  userSources(sc) {
    const { ctx } = sc;
    const sources: Source[] = [
      fileSource(CLIENT, claudeJsonPath(ctx), 'json', 'user', null, 'claude-json', (doc, ex) => claudeJson(doc, ex, sc), sc.projectRootsKey),
    ];
    for (const sub of ['cache', 'repos']) {
      sources.push({
        kind: 'dir',
        dir: join(configDir(ctx), 'plugins', sub),
        maxDepth: 6,
        match: (name, path) => name === '.mcp.json' || (name === 'plugin.json' && basename(dirname(path)) === '.claude-plugin'),
        make: (path) =>
          basename(path) === '.mcp.json'
            ? fileSource(CLIENT, path, 'json', 'plugin', null, 'plugin-mcp', wrappedOrFlatServers)
            : fileSource(CLIENT, path, 'json', 'plugin', null, 'plugin-manifest', pluginManifest),
        skip: PLUGIN_SKIP,
      });
    }
    const managed = managedPath(ctx);
    if (ctx.includeSystem && managed && isAbsolute(managed)) {
      sources.push(fileSource(CLIENT, managed, 'json', 'managed', null, 'managed-mcp', (doc, ex) => readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers')));
    }
    return sources;
  },
  projectSources(_sc, project) {
    const declined = JSON.stringify(project.claude?.disabledMcpjsonServers ?? null);
    return [fileSource(CLIENT, join(project.root, '.mcp.json'), 'json', 'project', project.root, 'project-mcp', (doc, ex) => projectMcpJson(doc, ex, project), declined)];
  },
};

/** User-scope servers, then each project's local-scope servers, from ~/.claude.json. */
function claudeJson(doc: unknown, ex: ExtractContext, sc: SourceContext): RawServer[] {
  const servers = readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers');
  const projects = at(doc, ['projects']);
  if (!isRecord(projects)) return servers;
  for (const [path, entry] of Object.entries(projects)) {
    if (!isRecord(entry) || !isAbsolute(path)) continue;
    const project = sc.projectRoot(path);
    const local = readServerMap(entry.mcpServers, ex, read, `projects["${path}"].mcpServers`);
    for (const server of local) servers.push({ ...server, scope: 'local', project });
  }
  return servers;
}

/** <project>/.mcp.json: disabled when the user declined it in ~/.claude.json for that project. */
function projectMcpJson(doc: unknown, ex: ExtractContext, project: Project): RawServer[] {
  const servers = readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers');
  const disabled = project.claude?.disabledMcpjsonServers;
  if (!Array.isArray(disabled) || disabled.length === 0) return servers;
  const names = new Set(disabled.filter((n): n is string => typeof n === 'string'));
  return servers.map((s) => (names.has(s.name) ? { ...s, enabled: false } : s));
}

/** .claude-plugin/plugin.json: inline `mcpServers` (a path string points at a file the walk also finds). */
function pluginManifest(doc: unknown, ex: ExtractContext): RawServer[] {
  const inline = at(doc, ['mcpServers'], ex);
  return isRecord(inline) ? readServerMap(inline, ex, read, 'mcpServers') : [];
}
