/**
 * Gemini CLI: `mcpServers` in ~/.gemini/settings.json, the project's .gemini/settings.json, the
 * system settings and system defaults (GEMINI_CLI_SYSTEM_SETTINGS_PATH / _DEFAULTS_PATH override
 * them), and extensions' gemini-extension.json. `url` without `type` means Streamable HTTP since
 * Gemini CLI's 2025-12 change (it meant SSE before); `httpUrl` is HTTP, `tcp` a websocket.
 */
import { dirname, isAbsolute, join } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { at, readServerMap, standardReader } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer, type Source } from './model.ts';

const CLIENT = 'gemini-cli';
const read = standardReader({ remoteDefault: 'http' });

function systemSettingsPath(ctx: DiscoveryContext): string {
  if (ctx.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH) return ctx.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH;
  if (ctx.platform === 'darwin') return '/Library/Application Support/GeminiCli/settings.json';
  if (ctx.platform === 'win32') return 'C:\\ProgramData\\gemini-cli\\settings.json';
  return '/etc/gemini-cli/settings.json';
}

/** Gemini CLI's settings files (user, project, system) and extensions. */
export const gemini: ClientModule = {
  userSources({ ctx }) {
    const dir = join(ctx.home, '.gemini');
    const sources: Source[] = [fileSource(CLIENT, join(dir, 'settings.json'), 'json', 'user', null, 'gemini-settings', geminiSettings)];
    const system = systemSettingsPath(ctx);
    const defaults = ctx.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH ?? join(dirname(system), 'system-defaults.json');
    if (ctx.includeSystem || ctx.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH) {
      if (isAbsolute(system)) sources.push(fileSource(CLIENT, system, 'json', 'managed', null, 'gemini-settings', geminiSettings));
    }
    if (ctx.includeSystem || ctx.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH) {
      if (isAbsolute(defaults)) sources.push(fileSource(CLIENT, defaults, 'json', 'managed', null, 'gemini-settings', geminiSettings));
    }
    const extensions = join(dir, 'extensions');
    sources.push({
      kind: 'dir',
      dir: extensions,
      maxDepth: 1,
      match: (name, path) => name === 'gemini-extension.json' && dirname(dirname(path)) === extensions,
      make: (path) => fileSource(CLIENT, path, 'json', 'extension', null, 'gemini-extension', geminiSettings),
    });
    return sources;
  },
  projectSources(_sc, project) {
    return [fileSource(CLIENT, join(project.root, '.gemini', 'settings.json'), 'json', 'project', project.root, 'gemini-settings', geminiSettings)];
  },
};

/** `mcpServers`, with names in `mcp.excluded` reported as disabled. */
function geminiSettings(doc: unknown, ex: ExtractContext): RawServer[] {
  const servers = readServerMap(at(doc, ['mcpServers'], ex), ex, read, 'mcpServers');
  const excluded = at(doc, ['mcp', 'excluded']);
  if (!Array.isArray(excluded) || !isRecord(doc)) return servers;
  const names = new Set(excluded.filter((n): n is string => typeof n === 'string'));
  return servers.map((s) => (names.has(s.name) ? { ...s, enabled: false } : s));
}
