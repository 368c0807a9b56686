/**
 * opencode: the `mcp` map in opencode.json / opencode.jsonc under ~/.config/opencode (XDG on every
 * OS), ~/.opencode, $OPENCODE_CONFIG (a file) and $OPENCODE_CONFIG_DIR, managed system dirs, and
 * per project opencode.json[c] and .opencode/. Entries: {type: "local", command: [argv],
 * environment} or {type: "remote", url, headers, oauth}; values expand {env:VAR} and {file:path}.
 */
import { isAbsolute, join } from 'node:path';
import { xdgConfigHome, type DiscoveryContext } from '../context.ts';
import { at, fail, namedValues, own, readOauth, readServerMap, resolveTransport, stringList, optionalString } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer, type SecretField, type Source } from './model.ts';
import type { CredentialFinding } from '../../api/inventory.ts';

const CLIENT = 'opencode';
const NAMES = ['opencode.json', 'opencode.jsonc'];

function managedDir(ctx: DiscoveryContext): string {
  if (ctx.platform === 'darwin') return '/Library/Application Support/opencode';
  if (ctx.platform === 'win32') return join(ctx.env.ProgramData ?? 'C:\\ProgramData', 'opencode');
  return '/etc/opencode';
}

function configFiles(dir: string, scope: 'user' | 'project' | 'managed', project: string | null): Source[] {
  return NAMES.map((name) => fileSource(CLIENT, join(dir, name), 'json', scope, project, 'opencode-config', opencodeConfig));
}

/** opencode's config files (user, env-named, managed, project). */
export const opencode: ClientModule = {
  userSources({ ctx }) {
    const dir = join(xdgConfigHome(ctx), 'opencode');
    const sources: Source[] = [
      ...configFiles(dir, 'user', null),
      fileSource(CLIENT, join(dir, 'config.json'), 'json', 'user', null, 'opencode-config', opencodeConfig),
      ...configFiles(join(ctx.home, '.opencode'), 'user', null),
    ];
    const explicit = ctx.env.OPENCODE_CONFIG;
    if (explicit && isAbsolute(explicit)) sources.push(fileSource(CLIENT, explicit, 'json', 'user', null, 'opencode-config', opencodeConfig));
    const explicitDir = ctx.env.OPENCODE_CONFIG_DIR;
    if (explicitDir && isAbsolute(explicitDir)) sources.push(...configFiles(explicitDir, 'user', null));
    const managed = managedDir(ctx);
    if (ctx.includeSystem && isAbsolute(managed)) sources.push(...configFiles(managed, 'managed', null));
    return sources;
  },
  projectSources(_sc, project) {
    return [...configFiles(project.root, 'project', project.root), ...configFiles(join(project.root, '.opencode'), 'project', project.root)];
  },
};

function opencodeConfig(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['mcp'], ex), ex, opencodeEntry, 'mcp');
}

function opencodeEntry(name: string, entry: unknown): RawServer {
  if (!isRecord(entry)) fail('entry is not an object');
  const type = optionalString(entry, 'type');
  const argv = Array.isArray(own(entry, 'command')) ? (stringList(entry, 'command') ?? []) : undefined;
  const command = argv ? argv[0] : optionalString(entry, 'command');
  const url = optionalString(entry, 'url');
  const transport = resolveTransport(type, command, url, 'http');
  const references: CredentialFinding[] = [];
  const secretFields: SecretField[] = [];
  readOauth(own(entry, 'oauth'), references, secretFields);
  const env = namedValues(entry, 'environment');
  const headers = namedValues(entry, 'headers');
  const args = argv ? argv.slice(1) : stringList(entry, 'args');
  return {
    name,
    transport,
    ...(command !== undefined ? { command } : {}),
    ...(command !== undefined && args ? { args } : {}),
    ...(url !== undefined ? { url } : {}),
    ...(env ? { env } : {}),
    ...(headers ? { headers } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(secretFields.length > 0 ? { secretFields } : {}),
    enabled: own(entry, 'enabled') !== false,
  };
}
