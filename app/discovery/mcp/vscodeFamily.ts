/**
 * VS Code and its forks (Insiders, VSCodium, Cursor, Windsurf, Kiro, Antigravity, Trae): the
 * user-data dir's mcp.json and legacy settings.json `mcp.servers`, named profiles, remote-server
 * data dirs, the MCP settings of agent extensions (Cline, Roo Code, Kilo Code) in globalStorage,
 * and per project .vscode/mcp.json, .vscode/settings.json, devcontainer.json and .code-workspace.
 */
import { basename, join } from 'node:path';
import { editorUserDataDir, type DiscoveryContext } from '../context.ts';
import { at, readServerMap, standardReader } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type FileSource, type RawServer, type Source } from './model.ts';

type Editor = Readonly<{ client: string; app: string; serverDir?: string }>;

const EDITORS: readonly Editor[] = [
  { client: 'vscode', app: 'Code', serverDir: '.vscode-server' },
  { client: 'vscode-insiders', app: 'Code - Insiders', serverDir: '.vscode-server-insiders' },
  { client: 'vscodium', app: 'VSCodium', serverDir: '.vscodium-server' },
  { client: 'cursor', app: 'Cursor', serverDir: '.cursor-server' },
  { client: 'windsurf', app: 'Windsurf', serverDir: '.windsurf-server' },
  { client: 'kiro', app: 'Kiro' },
  { client: 'antigravity', app: 'Antigravity' },
  { client: 'antigravity', app: 'Antigravity IDE' },
  { client: 'trae', app: 'Trae' },
];

/** Agent extensions that keep their own MCP settings in an editor's globalStorage. */
const EXTENSIONS: readonly Readonly<{ client: string; id: string; file: string }>[] = [
  { client: 'cline', id: 'saoudrizwan.claude-dev', file: 'cline_mcp_settings.json' },
  { client: 'roo-code', id: 'rooveterinaryinc.roo-cline', file: 'mcp_settings.json' },
  { client: 'kilo-code', id: 'kilocode.kilo-code', file: 'mcp_settings.json' },
];

const read = standardReader({ remoteDefault: 'http' });

/** Every VS Code-style data dir on this machine layout, with the client it belongs to. */
export function editorDataDirs(ctx: DiscoveryContext): { client: string; dir: string }[] {
  const dirs: { client: string; dir: string }[] = [];
  for (const editor of EDITORS) {
    dirs.push({ client: editor.client, dir: editorUserDataDir(ctx, editor.app) });
    if (editor.serverDir) dirs.push({ client: editor.client, dir: join(ctx.home, editor.serverDir, 'data') });
  }
  if (ctx.env.VSCODE_PORTABLE) dirs.push({ client: 'vscode', dir: join(ctx.env.VSCODE_PORTABLE, 'user-data') });
  return dirs;
}

/** VS Code-family user data, agent-extension settings, workspace files and project files. */
export const vscodeFamily: ClientModule = {
  userSources({ ctx, workspaceFiles }) {
    const sources: Source[] = [];
    for (const { client, dir } of editorDataDirs(ctx)) {
      const user = join(dir, 'User');
      sources.push(mcpJsonSource(client, join(user, 'mcp.json'), 'user', null), settingsSource(client, join(user, 'settings.json'), 'user', null));
      const profiles = join(user, 'profiles');
      sources.push({
        kind: 'dir',
        dir: profiles,
        maxDepth: 1,
        match: (name, path) => (name === 'mcp.json' || name === 'settings.json') && path !== join(profiles, name),
        make: (path) => (basename(path) === 'mcp.json' ? mcpJsonSource(client, path, 'user', null) : settingsSource(client, path, 'user', null)),
      });
      for (const ext of EXTENSIONS) {
        const path = join(user, 'globalStorage', ext.id, 'settings', ext.file);
        sources.push(fileSource(ext.client, path, 'json', 'user', null, 'extension-settings', mcpServersOf));
      }
    }
    sources.push(mcpJsonSource('vscode', join(ctx.home, '.vscode', 'mcp.json'), 'user', null));
    for (const ws of workspaceFiles) {
      sources.push(fileSource(ws.client, ws.path, 'json', 'project', ws.folders[0] ?? null, 'code-workspace', workspaceSettings));
    }
    return sources;
  },
  projectSources(_sc, project) {
    const root = project.root;
    return [
      mcpJsonSource('vscode', join(root, '.vscode', 'mcp.json'), 'project', root),
      settingsSource('vscode', join(root, '.vscode', 'settings.json'), 'project', root),
      fileSource('vscode', join(root, '.devcontainer', 'devcontainer.json'), 'json', 'project', root, 'devcontainer', devcontainer),
    ];
  },
};

function mcpJsonSource(client: string, path: string, scope: 'user' | 'project', project: string | null): FileSource {
  return fileSource(client, path, 'json', scope, project, 'vscode-mcp', mcpJson);
}

function settingsSource(client: string, path: string, scope: 'user' | 'project', project: string | null): FileSource {
  return fileSource(client, path, 'json', scope, project, 'vscode-settings', (doc, ex) => settingsServers(doc, ex, 'settings'));
}

/** mcp.json: `servers` (forks that copied Cursor's format use `mcpServers`). */
function mcpJson(doc: unknown, ex: ExtractContext): RawServer[] {
  if (!isRecord(doc)) {
    if (doc !== undefined) ex.report(undefined, 'expected an object at top level');
    return [];
  }
  const key = doc.servers !== undefined ? 'servers' : 'mcpServers';
  return readServerMap(doc[key], ex, read, key);
}

function mcpServersOf(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers');
}

/** Legacy settings: nested {"mcp": {"servers": ...}} or the dotted key "mcp.servers". */
function settingsServers(settings: unknown, ex: ExtractContext, where: string): RawServer[] {
  if (!isRecord(settings)) return [];
  const dotted = settings['mcp.servers'];
  if (dotted !== undefined) return readServerMap(dotted, ex, read, `${where}["mcp.servers"]`);
  const mcp = settings.mcp;
  if (mcp === undefined) return [];
  if (!isRecord(mcp)) {
    ex.report(undefined, `${where}.mcp is not an object`);
    return [];
  }
  return readServerMap(mcp.servers, ex, read, `${where}.mcp.servers`);
}

/** devcontainer.json: customizations.vscode.mcp.servers, or the same inside its settings. */
function devcontainer(doc: unknown, ex: ExtractContext): RawServer[] {
  const vscode = at(doc, ['customizations', 'vscode']);
  if (!isRecord(vscode)) return [];
  if (vscode.mcp !== undefined) return settingsServers({ mcp: vscode.mcp }, ex, 'customizations.vscode');
  return settingsServers(vscode.settings, ex, 'customizations.vscode.settings');
}

/** .code-workspace: settings.mcp.servers (or a top-level mcp block). */
function workspaceSettings(doc: unknown, ex: ExtractContext): RawServer[] {
  if (!isRecord(doc)) return [];
  if (doc.mcp !== undefined) return settingsServers({ mcp: doc.mcp }, ex, 'workspace');
  return settingsServers(doc.settings, ex, 'settings');
}
