/**
 * Reading server entries out of parsed configs: typed field access that fails one entry (never
 * the file), and the "standard" entry shape most clients share (Claude's mcpServers, VS Code's
 * servers, Cursor, Windsurf, Gemini, Kiro, Cline ...) with every alias they use for the same thing.
 */
import type { CredentialFinding, McpTransport } from '../../api/inventory.ts';
import { isRecord, type ExtractContext, type NamedValue, type RawServer, type SecretField } from './model.ts';

/** A problem with one entry: the entry is skipped and reported, its siblings are kept. */
export class EntryError extends Error {}

/** Fails the entry being read (caught by readEntries, reported with the entry name). */
export function fail(message: string): never {
  throw new EntryError(message);
}

export type EntryReader = (name: string, entry: unknown, ex: ExtractContext) => RawServer | undefined;

/** Most entries one map may yield; the rest are reported once. */
const MAX_ENTRIES = 5_000;

/** Reads every entry of a name -> definition map, reporting bad entries and keeping good ones. */
export function readServerMap(map: unknown, ex: ExtractContext, read: EntryReader, where: string): RawServer[] {
  if (map === undefined || map === null) return [];
  if (!isRecord(map)) {
    ex.report(undefined, `"${where}" is not an object`);
    return [];
  }
  return readEntries(Object.entries(map), ex, read);
}

/** Reads [name, definition] pairs (from a map or a named list). */
export function readEntries(entries: readonly (readonly [string, unknown])[], ex: ExtractContext, read: EntryReader): RawServer[] {
  const out: RawServer[] = [];
  const seen = new Set<string>();
  if (entries.length > MAX_ENTRIES) ex.report(undefined, `more than ${MAX_ENTRIES} server entries; the rest were skipped`);
  for (const [name, entry] of entries.slice(0, MAX_ENTRIES)) {
    if (seen.has(name)) {
      ex.report(name, 'duplicate server name; the first definition is listed');
      continue;
    }
    seen.add(name);
    try {
      const server = read(name, entry, ex);
      if (server) out.push(server);
    } catch (error) {
      ex.report(name, error instanceof EntryError ? error.message : 'entry could not be read');
    }
  }
  return out;
}

/** Follows keys from the document root; reports a non-object on the way (when `report`). */
export function at(doc: unknown, keys: readonly string[], ex?: ExtractContext): unknown {
  let value = doc;
  for (const key of keys) {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      ex?.report(undefined, 'the document is not an object where servers were expected');
      return undefined;
    }
    value = Object.hasOwn(value, key) ? value[key] : undefined;
  }
  return value;
}

/** A string field, or undefined when absent; any other type fails the entry. */
export function optionalString(entry: Record<string, unknown>, key: string): string | undefined {
  const value = own(entry, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`"${key}" must be a string`);
  return value;
}

/** A list of strings; numbers and booleans are taken as their text, as clients do. */
export function stringList(entry: Record<string, unknown>, key: string): string[] | undefined {
  const value = own(entry, key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail(`"${key}" must be a list`);
  return value.map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    return fail(`"${key}" must hold only strings`);
  });
}

/** Name/value pairs of a map (env, headers); values are kept only for classification. */
export function namedValues(entry: Record<string, unknown>, key: string): NamedValue[] | undefined {
  const value = own(entry, key);
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) fail(`"${key}" must be an object`);
  return Object.entries(value);
}

/** An own property (never one inherited from Object.prototype). */
export function own(entry: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(entry, key) ? entry[key] : undefined;
}

/** `disabled: true` or `enabled: false`, the two spellings clients use. */
export function isDisabled(entry: Record<string, unknown>): boolean {
  return own(entry, 'disabled') === true || own(entry, 'enabled') === false;
}

/** Maps every transport spelling the clients use onto the inventory's four transports. */
export function normalizeTransport(type: string): McpTransport {
  switch (type.toLowerCase().replace(/[-_ ]/g, '')) {
    case 'stdio':
    case 'local':
    case 'command':
      return 'stdio';
    case 'http':
    case 'https':
    case 'streamablehttp':
    case 'streamable':
    case 'httpstream':
    case 'remote':
      return 'http';
    case 'sse':
      return 'sse';
    case 'ws':
    case 'wss':
    case 'websocket':
    case 'tcp':
      return 'ws';
    default:
      return 'unknown';
  }
}

/** Chooses the transport from an explicit type, else from which of command / URL is present. */
export function resolveTransport(type: string | undefined, command: string | undefined, url: string | undefined, remoteDefault: McpTransport): McpTransport {
  if (type !== undefined) {
    const transport = normalizeTransport(type);
    if (transport === 'stdio' && command === undefined) fail('stdio server has no "command"');
    if ((transport === 'http' || transport === 'sse' || transport === 'ws') && url === undefined) fail(`${transport} server has no URL`);
    if (transport === 'unknown' && command === undefined && url === undefined) fail('server has neither "command" nor a URL');
    return transport;
  }
  if (command !== undefined) return 'stdio';
  if (url !== undefined) return remoteDefault;
  return fail('server has neither "command" nor a URL');
}

export type StandardOptions = Readonly<{
  /** Transport of a URL entry without "type" (Claude/Cursor/VS Code: http; Gemini's url: http since 2025-12). */
  remoteDefault?: McpTransport;
}>;

/**
 * The shared entry shape: type/transportType/transport, command (string or argv list), args, env,
 * envFile, url/serverUrl/httpUrl/tcp, headers, headersHelper, oauth, authProviderType, disabled/enabled.
 */
export function standardEntry(name: string, entry: unknown, options: StandardOptions = {}): RawServer {
  if (!isRecord(entry)) fail('entry is not an object');
  const type = optionalString(entry, 'type') ?? optionalString(entry, 'transportType') ?? transportField(entry);
  let args = stringList(entry, 'args');
  let command: string | undefined;
  const rawCommand = own(entry, 'command');
  if (Array.isArray(rawCommand)) {
    const argv = stringList(entry, 'command') ?? [];
    command = argv[0];
    args = [...argv.slice(1), ...(args ?? [])];
  } else {
    command = optionalString(entry, 'command');
  }
  const httpUrl = optionalString(entry, 'httpUrl');
  const tcp = optionalString(entry, 'tcp');
  const url = optionalString(entry, 'url') ?? optionalString(entry, 'serverUrl') ?? optionalString(entry, 'uri') ?? httpUrl ?? tcp;
  const remoteDefault = url !== undefined && url === httpUrl ? 'http' : url !== undefined && url === tcp ? 'ws' : (options.remoteDefault ?? 'http');
  const transport = resolveTransport(type, command, url, remoteDefault);
  const references: CredentialFinding[] = [];
  const secretFields: SecretField[] = [];
  const envFile = optionalString(entry, 'envFile');
  if (envFile !== undefined) references.push({ location: 'env', name: 'envFile', posture: 'reference', kind: 'env-file' });
  if (optionalString(entry, 'headersHelper') !== undefined) {
    references.push({ location: 'header', name: 'headersHelper', posture: 'reference', kind: 'helper-command' });
  }
  readOauth(own(entry, 'oauth'), references, secretFields);
  const authProvider = optionalString(entry, 'authProviderType');
  if (authProvider !== undefined && authProvider !== 'dynamic_discovery') {
    references.push({ location: 'header', name: 'Authorization', posture: 'reference', kind: authProvider.replace(/_/g, '-') });
  }
  const env = namedValues(entry, 'env');
  const headers = namedValues(entry, 'headers');
  return {
    name,
    transport,
    ...(command !== undefined ? { command } : {}),
    ...(args !== undefined ? { args } : {}),
    ...(url !== undefined ? { url } : {}),
    ...(env ? { env } : {}),
    ...(headers ? { headers } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(secretFields.length > 0 ? { secretFields } : {}),
    enabled: !isDisabled(entry),
  };
}

/** OAuth config means the client obtains tokens itself; an inline client secret is still a literal. */
export function readOauth(oauth: unknown, references: CredentialFinding[], secretFields: SecretField[]): void {
  if (oauth === undefined || oauth === null || oauth === false) return;
  if (isRecord(oauth) && own(oauth, 'enabled') === false) return;
  references.push({ location: 'header', name: 'Authorization', posture: 'reference', kind: 'oauth' });
  if (!isRecord(oauth)) return;
  for (const key of ['clientSecret', 'client_secret']) {
    const value = own(oauth, key);
    if (value !== undefined) secretFields.push({ location: 'header', name: `oauth.${key}`, value });
  }
}

/** "transport" is a type string in most clients but an object in Continue's legacy config. */
function transportField(entry: Record<string, unknown>): string | undefined {
  const value = own(entry, 'transport');
  return typeof value === 'string' ? value : undefined;
}

/** Wraps a standard-shape entry reader with fixed options. */
export function standardReader(options: StandardOptions = {}): EntryReader {
  return (name, entry) => standardEntry(name, entry, options);
}

/** A plugin-style .mcp.json: wrapped ({"mcpServers": {...}}) or flat ({name: definition}). */
export function wrappedOrFlatServers(doc: unknown, ex: ExtractContext): RawServer[] {
  if (!isRecord(doc)) {
    if (doc !== undefined) ex.report(undefined, 'expected an object at top level');
    return [];
  }
  const read = standardReader();
  if (isRecord(doc.mcpServers)) return readServerMap(doc.mcpServers, ex, read, 'mcpServers');
  return readEntries(Object.entries(doc), ex, read);
}

/** The common case: servers in a top-level `mcpServers` map. */
export function mcpServersMap(doc: unknown, ex: ExtractContext): RawServer[] {
  return readServerMap(at(doc, ['mcpServers'], ex), ex, standardReader(), 'mcpServers');
}
