/**
 * OpenAI Codex (CLI and IDE extension): `[mcp_servers.<name>]` tables in $CODEX_HOME/config.toml,
 * the project's .codex/config.toml, system configs, and plugin .mcp.json files. Codex credentials:
 * `env` (literal values), `env_vars` (forwarded names), `bearer_token_env_var`, `http_headers`,
 * `env_http_headers`; an inline `bearer_token` is rejected by Codex but is still a secret on disk.
 */
import { isAbsolute, join } from 'node:path';
import type { DiscoveryContext } from '../context.ts';
import { at, fail, namedValues, optionalString, own, readServerMap, stringList, wrappedOrFlatServers } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type NamedValue, type RawServer, type SecretField, type Source } from './model.ts';

const CLIENT = 'codex';

/** $CODEX_HOME, else ~/.codex. */
export function codexHome(ctx: DiscoveryContext): string {
  return ctx.env.CODEX_HOME ?? join(ctx.home, '.codex');
}

function systemConfigs(ctx: DiscoveryContext): string[] {
  if (ctx.platform === 'win32') return [join(ctx.env.ProgramData ?? 'C:\\ProgramData', 'OpenAI', 'Codex', 'config.toml')];
  return ['/etc/codex/config.toml', '/etc/codex/managed_config.toml'];
}

/** Codex's config.toml files (user, project, system) and plugin .mcp.json files. */
export const codex: ClientModule = {
  userSources({ ctx }) {
    const home = codexHome(ctx);
    const sources: Source[] = [fileSource(CLIENT, join(home, 'config.toml'), 'toml', 'user', null, 'codex-config', codexConfig)];
    sources.push({
      kind: 'dir',
      dir: join(home, 'plugins'),
      maxDepth: 6,
      match: (name) => name === '.mcp.json',
      make: (path) => fileSource(CLIENT, path, 'json', 'plugin', null, 'plugin-mcp', wrappedOrFlatServers),
      skip: new Set(['node_modules', '.git']),
    });
    if (ctx.includeSystem) {
      for (const path of systemConfigs(ctx)) {
        if (isAbsolute(path)) sources.push(fileSource(CLIENT, path, 'toml', 'managed', null, 'codex-config', codexConfig));
      }
    }
    return sources;
  },
  projectSources(_sc, project) {
    return [fileSource(CLIENT, join(project.root, '.codex', 'config.toml'), 'toml', 'project', project.root, 'codex-config', codexConfig)];
  },
};

function codexConfig(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['mcp_servers'], ex), ex, codexEntry, 'mcp_servers');
}

function codexEntry(name: string, entry: unknown): RawServer {
  if (!isRecord(entry)) fail('entry is not a table');
  const command = optionalString(entry, 'command');
  const url = optionalString(entry, 'url');
  if (command === undefined && url === undefined) fail('server has neither "command" nor "url"');
  const args = stringList(entry, 'args');
  const env = namedValues(entry, 'env');
  const headers: NamedValue[] = [...(namedValues(entry, 'http_headers') ?? [])];
  for (const [header, variable] of namedValues(entry, 'env_http_headers') ?? []) {
    if (typeof variable !== 'string') fail('"env_http_headers" values must be env var names');
    headers.push([header, `\${${variable}}`]);
  }
  const bearerVar = optionalString(entry, 'bearer_token_env_var');
  if (bearerVar !== undefined) headers.push(['Authorization', `Bearer \${${bearerVar}}`]);
  const secretFields: SecretField[] = [];
  const inlineBearer = own(entry, 'bearer_token');
  if (inlineBearer !== undefined) secretFields.push({ location: 'header', name: 'bearer_token', value: inlineBearer });
  // `headers` is ignored by Codex (not sent), but a secret written there is still on disk.
  for (const [header, value] of namedValues(entry, 'headers') ?? []) secretFields.push({ location: 'header', name: header, value });
  return {
    name,
    transport: command !== undefined ? 'stdio' : 'http',
    ...(command !== undefined ? { command } : {}),
    ...(args !== undefined ? { args } : {}),
    ...(command === undefined && url !== undefined ? { url } : {}),
    ...(env ? { env } : {}),
    ...(envVars(entry).length > 0 ? { envPassthrough: envVars(entry) } : {}),
    ...(headers.length > 0 ? { headers } : {}),
    ...(secretFields.length > 0 ? { secretFields } : {}),
    enabled: own(entry, 'enabled') !== false,
  };
}

/** `env_vars`: names, or {name = "..."} tables in newer versions. */
function envVars(entry: Record<string, unknown>): string[] {
  const value = own(entry, 'env_vars');
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => (typeof item === 'string' ? [item] : isRecord(item) && typeof item.name === 'string' ? [item.name] : []));
}
