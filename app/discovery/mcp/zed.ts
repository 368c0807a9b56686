/**
 * Zed: `context_servers` in settings.json (JSONC) under Zed's config dir ($FLATPAK_XDG_CONFIG_HOME
 * or $XDG_CONFIG_HOME/zed; ~/.config/zed on macOS too; %APPDATA%\Zed on Windows) and the
 * project's .zed/settings.json. Entries are the current flat form (command string + args + env),
 * the older nested form (command: {path, args, env}), remote (url + headers), or extension-provided
 * ({settings}), whose settings may hold tokens.
 */
import { join } from 'node:path';
import type { CredentialFinding } from '../../api/inventory.ts';
import type { DiscoveryContext } from '../context.ts';
import { at, fail, namedValues, optionalString, own, readOauth, readServerMap, stringList } from './entries.ts';
import { fileSource, isRecord, type ClientModule, type ExtractContext, type RawServer, type SecretField } from './model.ts';

const CLIENT = 'zed';

function settingsPath(ctx: DiscoveryContext): string {
  if (ctx.platform === 'win32') return join(ctx.env.APPDATA ?? join(ctx.home, 'AppData', 'Roaming'), 'Zed', 'settings.json');
  if (ctx.platform === 'linux' && ctx.env.FLATPAK_XDG_CONFIG_HOME) return join(ctx.env.FLATPAK_XDG_CONFIG_HOME, 'zed', 'settings.json');
  // Zed's config_dir is ~/.config/zed on macOS as well (not ~/Library/Application Support).
  const base = ctx.platform === 'linux' ? (ctx.env.XDG_CONFIG_HOME ?? join(ctx.home, '.config')) : join(ctx.home, '.config');
  return join(base, 'zed', 'settings.json');
}

/** Zed's user and project settings.json. */
export const zed: ClientModule = {
  userSources({ ctx }) {
    return [fileSource(CLIENT, settingsPath(ctx), 'json', 'user', null, 'zed-settings', zedSettings)];
  },
  projectSources(_sc, project) {
    return [fileSource(CLIENT, join(project.root, '.zed', 'settings.json'), 'json', 'project', project.root, 'zed-settings', zedSettings)];
  },
};

function zedSettings(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['context_servers'], ex), ex, zedEntry, 'context_servers');
}

function zedEntry(name: string, entry: unknown): RawServer {
  if (!isRecord(entry)) fail('entry is not an object');
  const enabled = own(entry, 'enabled') !== false;
  const references: CredentialFinding[] = [];
  const secretFields: SecretField[] = [];
  readOauth(own(entry, 'oauth'), references, secretFields);
  const extras = { ...(references.length > 0 ? { references } : {}), ...(secretFields.length > 0 ? { secretFields } : {}) };
  const nested = own(entry, 'command');
  if (isRecord(nested)) {
    // Older form: command: {path, args, env}.
    const command = optionalString(nested, 'path');
    if (command === undefined) fail('"command.path" is missing');
    const args = stringList(nested, 'args');
    const env = namedValues(nested, 'env');
    return { name, transport: 'stdio', command, ...(args ? { args } : {}), ...(env ? { env } : {}), ...extras, enabled };
  }
  const command = optionalString(entry, 'command');
  if (command !== undefined) {
    const args = stringList(entry, 'args');
    const env = namedValues(entry, 'env');
    return { name, transport: 'stdio', command, ...(args ? { args } : {}), ...(env ? { env } : {}), ...extras, enabled };
  }
  const url = optionalString(entry, 'url');
  if (url !== undefined) {
    const headers = namedValues(entry, 'headers');
    return { name, transport: 'http', url, ...(headers ? { headers } : {}), ...extras, enabled };
  }
  const settings = own(entry, 'settings');
  if (settings !== undefined || own(entry, 'source') === 'extension') {
    // Provided by a Zed extension: what runs is the extension's business; its settings are checked for secrets.
    const fields = [...secretFields, ...(isRecord(settings) ? flattenSettings(settings) : [])];
    return { name, transport: 'unknown', ...(references.length > 0 ? { references } : {}), ...(fields.length > 0 ? { secretFields: fields } : {}), enabled };
  }
  return fail('server has neither "command", "url" nor extension "settings"');
}

/** String leaves of an extension's settings (two levels deep), named by their dotted key. */
function flattenSettings(settings: Record<string, unknown>, prefix = 'settings', depth = 0): SecretField[] {
  const out: SecretField[] = [];
  for (const [key, value] of Object.entries(settings).slice(0, 200)) {
    const name = `${prefix}.${key}`;
    if (typeof value === 'string') out.push({ location: 'env', name, value });
    else if (isRecord(value) && depth < 2) out.push(...flattenSettings(value, name, depth + 1));
  }
  return out;
}
