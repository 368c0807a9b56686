/**
 * Goose (Block): `extensions` in config.yaml (XDG config dir; %APPDATA%\Block\goose\config on
 * Windows). Entries are typed: stdio (cmd, args, envs, env_keys), streamable_http (uri, headers),
 * sse (kept for old files), inline_python; builtin/platform/frontend run inside Goose and are not
 * MCP server configs. Secrets named in env_keys live in the OS keyring: a reference.
 */
import { join } from 'node:path';
import { xdgConfigHome, type DiscoveryContext } from '../context.ts';
import { at, fail, namedValues, optionalString, own, readServerMap, stringList } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer } from './model.ts';

const CLIENT = 'goose';
const IN_PROCESS = new Set(['builtin', 'platform', 'frontend']);

function configPath(ctx: DiscoveryContext): string {
  if (ctx.platform === 'win32') return join(ctx.env.APPDATA ?? join(ctx.home, 'AppData', 'Roaming'), 'Block', 'goose', 'config', 'config.yaml');
  return join(xdgConfigHome(ctx), 'goose', 'config.yaml');
}

/** Goose's config.yaml. */
export const goose: ClientModule = {
  userSources({ ctx }) {
    return [fileSource(CLIENT, configPath(ctx), 'yaml', 'user', null, 'goose-config', gooseConfig)];
  },
};

function gooseConfig(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['extensions'], ex), ex, gooseEntry, 'extensions');
}

function gooseEntry(key: string, entry: unknown): RawServer | undefined {
  if (!isRecord(entry)) fail('extension is not a mapping');
  const type = optionalString(entry, 'type') ?? 'stdio';
  if (IN_PROCESS.has(type)) return undefined;
  const name = optionalString(entry, 'name') ?? key;
  const keyNames = stringList(entry, 'env_keys') ?? [];
  const env = namedValues(entry, 'envs');
  const common = {
    name,
    ...(env ? { env } : {}),
    ...(keyNames.length > 0 ? { envPassthrough: keyNames } : {}),
    references: keyNames.map((n) => ({ location: 'env' as const, name: n, posture: 'reference' as const, kind: 'keyring' })),
    enabled: own(entry, 'enabled') !== false,
  };
  switch (type) {
    case 'stdio': {
      const command = optionalString(entry, 'cmd') ?? optionalString(entry, 'command');
      if (command === undefined) fail('stdio extension has no "cmd"');
      const args = stringList(entry, 'args');
      return { ...common, transport: 'stdio', command, ...(args ? { args } : {}) };
    }
    case 'streamable_http':
    case 'sse': {
      const url = optionalString(entry, 'uri') ?? optionalString(entry, 'url');
      if (url === undefined) fail(`${type} extension has no "uri"`);
      const headers = namedValues(entry, 'headers');
      return { ...common, transport: type === 'sse' ? 'sse' : 'http', url, ...(headers ? { headers } : {}) };
    }
    case 'inline_python':
      return { ...common, transport: 'stdio' };
    default:
      return { ...common, transport: 'unknown' };
  }
}
