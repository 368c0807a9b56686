/**
 * `cordon agents protect --mcp`: routes an agent's stdio MCP servers through the gateway. Each
 * server's command becomes `cordon mcp wrap --server NAME --agent KIND -- ORIGINAL ARGS...`, and
 * each env value discovery classes as a literal secret moves into the OS keychain: the wrap puts
 * it back into that server's environment only (`--secret-env VAR=CREDENTIAL`). JSONC files are
 * edited with jsonc-parser (comments kept); Codex's TOML line by line, every added line ending in
 * ROUTE_MARK and every replaced line kept behind ROUTE_WAS, its secret swapped for a placeholder
 * that restoring fills from the keychain. Backups hold the same placeholders, never the secret.
 * Pure text functions: the caller stores and reads the secrets.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'smol-toml';
import { analyzeServer } from '../discovery/mcp/credentials.ts';
import { splitReferences } from '../discovery/mcp/secrets.ts';
import { isCredentialName } from '../identity/credentials.ts';
import { checkServerName } from '../mcp/toolSet.ts';
import { isObj, readObject, setAt } from './jsonEdit.ts';
import { bareOrQuoted, headerIndex, removeMcpServerEnv, samePath } from './tomlEdit.ts';
import { ProtectRefusal, type FileFormat, type McpLauncher, type ProtectAgent, type RoutedServer } from './types.ts';

export const ROUTE_MARK = '# cordon-mcp';
export const ROUTE_WAS = '# cordon-mcp-was: ';

type Obj = Record<string, unknown>;

/** A literal secret leaving the config for the keychain. */
export type SecretMove = Readonly<{ server: string; gateway: string; variable: string; credential: string; value: string }>;

export type RouteResult = Readonly<{
  text: string;
  /** The servers routed by this edit, by their name in the file. */
  routed: Readonly<Record<string, RoutedServer>>;
  moves: readonly SecretMove[];
  /** What was left alone and why (routedNotes says what was done). */
  notes: readonly string[];
}>;

/** Credential name -> its secret (null: not in the keychain any more). */
export type SecretLookup = ReadonlyMap<string, string | null>;

export type UnrouteResult = Readonly<{ text: string; restored: ReadonlySet<string>; notes: readonly string[] }>;

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER_RE = /\{\{cordon-secret:([A-Za-z0-9._-]{1,64})\}\}/g;
const URL_KEYS = ['url', 'serverUrl', 'httpUrl', 'uri', 'tcp'];
/** Longest multi-line TOML value (an args list) looked at. */
const MAX_SPAN_LINES = 500;

type Secret = { variable: string; value: string; credential: string };

type Plan =
  | Readonly<{ kind: 'skip'; notes: readonly string[] }>
  | Readonly<{
      kind: 'route';
      command: string;
      args: readonly string[];
      hadArgs: boolean;
      env: Obj | undefined;
      gateway: string;
      secrets: readonly Secret[];
      /** Secrets Cordon moved before whose variable is still absent: their credential goes on. */
      kept: readonly Pick<Secret, 'variable' | 'credential'>[];
      notes: readonly string[];
    }>;

/** What stands in for a moved secret in a backup or a kept TOML line. */
export function secretPlaceholder(credential: string): string {
  return `{{cordon-secret:${credential}}}`;
}

/** Replaces every occurrence of each moved secret with its placeholder (longest first). */
export function redactSecrets(text: string, moves: readonly SecretMove[]): string {
  let out = text;
  for (const m of [...moves].sort((a, b) => b.value.length - a.value.length)) {
    if (m.value.length > 0 && !out.includes(secretPlaceholder(m.credential))) out = out.split(m.value).join(secretPlaceholder(m.credential));
  }
  return out;
}

/** Fills placeholders of the credentials in `secrets`; a missing secret leaves an empty value. */
export function restoreSecrets(text: string, secrets: SecretLookup): { text: string; restored: Set<string>; missing: Set<string> } {
  const restored = new Set<string>();
  const missing = new Set<string>();
  const out = text.replace(PLACEHOLDER_RE, (whole: string, id: string) => {
    if (!secrets.has(id)) return whole;
    const value = secrets.get(id);
    if (typeof value === 'string') {
      restored.add(id);
      return value;
    }
    missing.add(id);
    return '';
  });
  return { text: out, restored, missing };
}

/** `cordon ... mcp wrap ... -- CMD ARGS`: the original command, args and gateway name; null when not wrapped. */
export function unwrapServer(command: unknown, args: unknown): { command: string; args: string[]; gateway: string | null } | null {
  if (typeof command !== 'string' || (args !== undefined && !isStringList(args))) return null;
  const argv = [command, ...((args as string[] | undefined) ?? [])];
  const at = wrapIndex(argv);
  if (at < 0) return null;
  const dashes = argv.indexOf('--', at + 2);
  if (dashes < 0 || dashes + 1 >= argv.length) return null;
  const server = argv.indexOf('--server', at + 2);
  return { command: argv[dashes + 1] ?? '', args: argv.slice(dashes + 2), gateway: server > 0 && server < dashes ? (argv[server + 1] ?? null) : null };
}

/** A server entry already started through `cordon mcp wrap` (by Cordon or by hand). */
export function isWrapped(command: unknown, args: unknown): boolean {
  if (typeof command !== 'string' || (args !== undefined && !isStringList(args))) return false;
  return wrapIndex([command, ...((args as string[] | undefined) ?? [])]) >= 0;
}

/** The credential a moved secret is stored under: mcp.<agent>.<server>.<VAR>, hashed when too long. */
export function credentialName(agent: ProtectAgent, gateway: string, variable: string): string {
  const plain = `mcp.${agent}.${gateway}.${variable}`;
  return isCredentialName(plain) ? plain : `mcp.${agent}.${createHash('sha256').update(`${gateway}\0${variable}`).digest('hex').slice(0, 16)}`;
}

/** The `args` of a routed entry: the launcher's, then `mcp wrap`, then the original command line. */
export function wrapArgs(launcher: McpLauncher, agent: ProtectAgent, gateway: string, secrets: readonly Pick<Secret, 'variable' | 'credential'>[], command: string, args: readonly string[]): string[] {
  const secretArgs = secrets.flatMap((s) => ['--secret-env', `${s.variable}=${s.credential}`]);
  return [...launcher.args, 'mcp', 'wrap', '--server', gateway, '--agent', agent, ...secretArgs, '--', command, ...args];
}

/** Routes every stdio server of a JSON file's `mcpServers` (`own`: the names Cordon routed before). */
export function routeJson(text: string, file: string, agent: ProtectAgent, launcher: McpLauncher, own: Readonly<Record<string, RoutedServer>> = {}): RouteResult {
  const doc = readObject(text, file);
  const servers = doc.mcpServers;
  if (servers === undefined) return { text, routed: {}, moves: [], notes: [] };
  if (!isObj(servers)) throw new ProtectRefusal(`${file}: "mcpServers" is not an object`);
  let out = text;
  const routed: Record<string, RoutedServer> = {};
  const moves: SecretMove[] = [];
  const notes: string[] = [];
  for (const [name, entry] of Object.entries(servers)) {
    const plan = planServer(agent, name, entry, own[name]);
    notes.push(...plan.notes);
    if (plan.kind !== 'route') continue;
    const at = ['mcpServers', name];
    out = setAt(out, [...at, 'command'], launcher.command);
    out = setAt(out, [...at, 'args'], wrapArgs(launcher, agent, plan.gateway, [...plan.secrets, ...plan.kept], plan.command, plan.args));
    for (const s of plan.secrets) out = setAt(out, [...at, 'env', s.variable], undefined);
    // An env holding only moved secrets goes with them.
    const envLeft = ((readObject(out, file).mcpServers as Obj)[name] as Obj).env;
    if (plan.secrets.length > 0 && isObj(envLeft) && Object.keys(envLeft).length === 0) out = setAt(out, [...at, 'env'], undefined);
    routed[name] = { gateway: plan.gateway, hadArgs: plan.hadArgs, secrets: Object.fromEntries([...plan.kept, ...plan.secrets].map((s) => [s.variable, s.credential])) };
    moves.push(...plan.secrets.map((s) => ({ server: name, gateway: plan.gateway, ...s })));
  }
  checkJson(out, file, routed, launcher);
  return { text: out, routed, moves, notes };
}

/** Puts routed servers of a JSON file back: the original command line from after `--`, the secrets from the keychain. */
export function unrouteJson(text: string, file: string, routed: Readonly<Record<string, RoutedServer>>, secrets: SecretLookup): UnrouteResult {
  let out = text;
  const restored = new Set<string>();
  const notes: string[] = [];
  for (const [name, record] of Object.entries(routed)) {
    const servers = readObject(out, file).mcpServers;
    const entry = isObj(servers) ? servers[name] : undefined;
    if (!isObj(entry)) continue;
    const original = unwrapServer(entry.command, entry.args);
    if (!original || original.gateway !== record.gateway) continue;
    const at = ['mcpServers', name];
    out = setAt(out, [...at, 'command'], original.command);
    out = setAt(out, [...at, 'args'], original.args.length === 0 && !record.hadArgs ? undefined : original.args);
    for (const [variable, credential] of Object.entries(record.secrets)) {
      const env = entry.env;
      if (isObj(env) && env[variable] !== undefined) continue;
      const value = secrets.get(credential);
      if (typeof value !== 'string') {
        notes.push(`the secret of ${variable} (MCP server "${name}") is no longer in the keychain (credential ${credential}): ${variable} was not put back`);
        continue;
      }
      out = setAt(out, [...at, 'env', variable], value);
      restored.add(credential);
    }
  }
  return { text: out, restored, notes };
}

/**
 * Routes every stdio server written as a [mcp_servers.NAME] table of Codex's config.toml. The
 * proxy-environment lines (tomlEdit.ts) are taken off first; the caller puts them back on top.
 */
export function routeToml(text: string, file: string, agent: ProtectAgent, launcher: McpLauncher, own: Readonly<Record<string, RoutedServer>> = {}): RouteResult {
  let out = removeMcpServerEnv(text);
  const servers = parseToml(out, file).mcp_servers;
  if (servers === undefined) return { text: out, routed: {}, moves: [], notes: [] };
  if (!isObj(servers)) throw new ProtectRefusal(`${file}: "mcp_servers" is not a table`);
  const routed: Record<string, RoutedServer> = {};
  const moves: SecretMove[] = [];
  const notes: string[] = [];
  for (const [name, entry] of Object.entries(servers)) {
    const plan = planServer(agent, name, entry, own[name]);
    notes.push(...plan.notes);
    if (plan.kind !== 'route') continue;
    const edit = editTomlServer(out, name, plan, agent, launcher);
    notes.push(...edit.notes);
    if (edit.text === null) continue;
    if (!sameAfterRouting(out, edit.text, file, name, launcher, edit.args, edit.moved)) {
      notes.push(`MCP server "${name}" could not be rewritten safely in ${file}: not routed`);
      continue;
    }
    out = edit.text;
    routed[name] = { gateway: plan.gateway, hadArgs: plan.hadArgs, secrets: Object.fromEntries([...plan.kept, ...edit.moved].map((s) => [s.variable, s.credential])) };
    moves.push(...edit.moved.map((s) => ({ server: name, gateway: plan.gateway, ...s })));
  }
  return { text: out, routed, moves, notes };
}

/** Takes Cordon's routing lines out of a config.toml (and the proxy lines above them), secrets filled back in. */
export function unrouteToml(text: string, secrets: SecretLookup): UnrouteResult {
  const clean = removeMcpServerEnv(text);
  if (!clean.includes(ROUTE_MARK)) return { text: clean, restored: new Set(), notes: [] };
  const eol = clean.includes('\r\n') ? '\r\n' : '\n';
  const restored = new Set<string>();
  const notes: string[] = [];
  const out: string[] = [];
  for (const line of clean.split(/\r?\n/)) {
    if (line.startsWith(ROUTE_WAS)) {
      const r = restoreSecrets(line.slice(ROUTE_WAS.length), secrets);
      for (const id of r.restored) restored.add(id);
      for (const id of r.missing) notes.push(`the secret of credential ${id} is no longer in the keychain: its variable was put back empty`);
      out.push(r.text);
    } else if (!line.trimEnd().endsWith(ROUTE_MARK)) out.push(line);
  }
  return { text: out.join(eol), restored, notes };
}

/** Names of servers Cordon routed that are still in the file but no longer go through the gateway. */
export function unroutedServers(text: string | null, format: FileFormat, routed: Readonly<Record<string, RoutedServer>>): string[] {
  if (text === null) return [];
  let servers: unknown;
  try {
    servers = format === 'toml' ? (parse(text) as Obj).mcp_servers : readObject(text, '').mcpServers;
  } catch {
    return [];
  }
  if (!isObj(servers)) return [];
  return Object.keys(routed).filter((name) => {
    const entry = servers[name];
    return isObj(entry) && !isWrapped(entry.command, entry.args);
  });
}

/** Decides what to do with one server entry: route it (and which env secrets move), or why not. `before`: Cordon routed it before. */
function planServer(agent: ProtectAgent, name: string, entry: unknown, before: RoutedServer | undefined): Plan {
  if (!isObj(entry)) return { kind: 'skip', notes: [] };
  const url = URL_KEYS.map((k) => entry[k]).find((v) => typeof v === 'string');
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : undefined;
  if (url !== undefined || (type !== undefined && type !== 'stdio' && type !== 'local')) return { kind: 'skip', notes: remoteNotes(name, url as string | undefined, entry) };
  if (typeof entry.command !== 'string' || entry.command === '') return { kind: 'skip', notes: [`MCP server "${name}" has no command string: not routed`] };
  if (entry.args !== undefined && !isStringList(entry.args)) return { kind: 'skip', notes: [`MCP server "${name}": "args" is not a list of strings: not routed`] };
  if (entry.env !== undefined && !isObj(entry.env)) return { kind: 'skip', notes: [`MCP server "${name}": "env" is not an object: not routed`] };
  const args = (entry.args as string[] | undefined) ?? [];
  if (isWrapped(entry.command, args)) return { kind: 'skip', notes: before ? [] : [`MCP server "${name}" already goes through cordon mcp wrap: left alone`] };
  const gateway = gatewayName(name);
  const notes: string[] = gateway === name ? [] : [`MCP server "${name}" is named "${gateway}" in the gateway (tool policy and approvals use that name)`];
  const env = entry.env as Obj | undefined;
  const stringEnv = Object.entries(env ?? {}).filter((pair): pair is [string, string] => typeof pair[1] === 'string');
  const analysis = analyzeServer({ name, transport: 'stdio', command: entry.command, args, env: stringEnv, enabled: true });
  const literal = new Set(analysis.findings.filter((f) => f.location === 'env' && f.posture === 'literal').map((f) => f.name));
  const secrets: Secret[] = [];
  for (const [variable, value] of stringEnv) {
    if (!literal.has(variable)) continue;
    if (!ENV_NAME_RE.test(variable)) notes.push(`MCP server "${name}": the secret in an env variable with an unusual name was left in place`);
    else if (splitReferences(value).references.length > 0) notes.push(`MCP server "${name}": ${variable} mixes a literal secret with a variable reference: left in place`);
    else secrets.push({ variable, value, credential: credentialName(agent, gateway, variable) });
  }
  const argSecrets = analysis.findings.filter((f) => f.location === 'arg' && f.posture === 'literal');
  if (argSecrets.length > 0) notes.push(`MCP server "${name}" has a literal secret in its arguments: left in place (move it into "env" and protect again to keep it in the keychain)`);
  // Routed before and unwrapped since (by hand, without the secret): the stored credential still serves it.
  const kept = Object.entries(before?.secrets ?? {})
    .filter(([variable]) => env?.[variable] === undefined)
    .map(([variable, credential]) => ({ variable, credential }));
  return { kind: 'route', command: entry.command, args, hadArgs: entry.args !== undefined, env, gateway, secrets, kept, notes };
}

function remoteNotes(name: string, url: string | undefined, entry: Obj): string[] {
  const notes = [`MCP server "${name}" not routed (remote): only stdio servers go through cordon mcp wrap`];
  const headers = [entry.headers, entry.http_headers].filter(isObj).flatMap((h) => Object.entries(h));
  const analysis = analyzeServer({ name, transport: 'http', ...(url !== undefined ? { url } : {}), headers, enabled: true });
  const literal = [...new Set(analysis.findings.filter((f) => f.posture === 'literal' && (f.location === 'header' || f.location.startsWith('url'))).map((f) => f.name))];
  if (literal.length > 0) notes.push(`MCP server "${name}" (remote) holds literal secrets (${literal.join(', ')}): left as they are`);
  return notes;
}

/** What a routing edit did, for the user (once it is written). */
export function routedNotes(result: RouteResult): string[] {
  return Object.entries(result.routed).flatMap(([name, server]) => [
    `routed MCP server "${name}" through the Cordon gateway (cordon mcp wrap --server ${server.gateway})`,
    ...result.moves.filter((m) => m.server === name).map((m) => `moved the literal secret in ${m.variable} of MCP server "${name}" to the OS keychain (credential ${m.credential})`),
  ]);
}

/** A name `cordon mcp wrap --server` accepts: the config's own, or a cleaned-up one. */
function gatewayName(name: string): string {
  if (validServer(name)) return name;
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '').slice(0, 64);
  return validServer(cleaned) ? cleaned : `server-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

function validServer(name: string): boolean {
  try {
    checkServerName(name);
    return true;
  } catch {
    return false;
  }
}

function wrapIndex(argv: readonly string[]): number {
  for (let i = 1; i + 1 < argv.length; i++) {
    if (argv[i] === 'mcp' && argv[i + 1] === 'wrap' && argv.slice(0, i).some((a) => /(^|[\\/])cordon(\.js|\.mjs|\.cmd|\.exe)?$/i.test(a))) return i;
  }
  return -1;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** After a JSON edit: every routed entry starts the launcher and holds none of the moved secrets. */
function checkJson(text: string, file: string, routed: Readonly<Record<string, RoutedServer>>, launcher: McpLauncher): void {
  const servers = readObject(text, file).mcpServers as Obj;
  for (const [name, record] of Object.entries(routed)) {
    const entry = servers[name] as Obj;
    const env = isObj(entry.env) ? entry.env : {};
    if (entry.command !== launcher.command || !isWrapped(entry.command, entry.args) || Object.keys(record.secrets).some((v) => v in env)) {
      throw new ProtectRefusal(`${file}: could not route MCP server "${name}" safely`);
    }
  }
}

type TomlEdit = { text: string | null; args: string[]; moved: Secret[]; notes: string[] };

/** The textual edit of one [mcp_servers.NAME] table: new command and args lines, moved secrets out. */
function editTomlServer(text: string, name: string, plan: Extract<Plan, { kind: 'route' }>, agent: ProtectAgent, launcher: McpLauncher): TomlEdit {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const headers = headerIndex(lines);
  const header = headers.find((h) => samePath(h.path, ['mcp_servers', name]));
  const none = (note: string): TomlEdit => ({ text: null, args: [], moved: [], notes: [note] });
  if (!header) return none(`MCP server "${name}" is not written as a [mcp_servers.${name}] table: not routed`);
  const end = headers.find((h) => h.line > header.line)?.line ?? lines.length;
  const command = keySpan(lines, header.line + 1, end, ['command']);
  if (!command) return none(`MCP server "${name}": its command line could not be found: not routed`);
  const args = keySpan(lines, header.line + 1, end, ['args']);
  const envHeader = headers.find((h) => samePath(h.path, ['mcp_servers', name, 'env']));
  const envEnd = envHeader ? (headers.find((h) => h.line > envHeader.line)?.line ?? lines.length) : -1;
  let inline = -1;
  for (let i = header.line + 1; i < end; i++) if (/^\s*env\s*=\s*\{.*\}\s*(#.*)?$/.test(lines[i] ?? '')) inline = i;

  const replaced = new Map<number, string[]>();
  const moved: Secret[] = [];
  const notes: string[] = [];
  const inlineMoved: Secret[] = [];
  for (const s of plan.secrets) {
    const span = (envHeader ? keySpan(lines, envHeader.line + 1, envEnd, [s.variable]) : null) ?? keySpan(lines, header.line + 1, end, ['env', s.variable]);
    const line = span ? (lines[span.from] ?? '') : '';
    const at = span && span.from === span.to ? line.indexOf(s.value, line.indexOf('=') + 1) : -1;
    if (span && at >= 0) {
      replaced.set(span.from, [`${ROUTE_WAS}${line.slice(0, at)}${secretPlaceholder(s.credential)}${line.slice(at + s.value.length)}`]);
      moved.push(s);
    } else if (!span && inline >= 0 && (lines[inline] ?? '').includes(s.value)) inlineMoved.push(s);
    else notes.push(`MCP server "${name}": the secret in ${s.variable} is not written as one plain string line: left in place`);
  }
  if (inlineMoved.length > 0) {
    const rest = Object.entries(plan.env ?? {}).filter(([k]) => !inlineMoved.some((s) => s.variable === k));
    const scalars = rest.map(([, v]) => tomlScalar(v));
    const values = rest.map(([k], i) => `${bareOrQuoted(k)} = ${scalars[i]}`);
    if (scalars.every((v) => v !== null)) {
      const was = redactSecrets(lines[inline] ?? '', inlineMoved.map((s) => ({ ...s, server: name, gateway: plan.gateway })));
      replaced.set(inline, [`${ROUTE_WAS}${was}`, ...(rest.length > 0 ? [`env = { ${values.join(', ')} } ${ROUTE_MARK}`] : [])]);
      moved.push(...inlineMoved);
    } else notes.push(`MCP server "${name}": its inline env holds values Cordon does not rewrite: secrets left in place`);
  }

  const newArgs = wrapArgs(launcher, agent, plan.gateway, [...moved, ...plan.kept], plan.command, plan.args);
  const commandLine = `command = ${JSON.stringify(launcher.command)} ${ROUTE_MARK}`;
  const argsLine = `args = [${newArgs.map((a) => JSON.stringify(a)).join(', ')}] ${ROUTE_MARK}`;
  for (let i = command.from; i <= command.to; i++) replaced.set(i, [...(i === command.from ? [commandLine, ...(args ? [] : [argsLine])] : []), `${ROUTE_WAS}${lines[i]}`]);
  if (args) for (let i = args.from; i <= args.to; i++) replaced.set(i, [...(i === args.from ? [argsLine] : []), `${ROUTE_WAS}${lines[i]}`]);
  const out = lines.flatMap((line, i) => replaced.get(i) ?? [line]).join(eol);
  return { text: out, args: newArgs, moved, notes };
}

/** A TOML key's lines within [from, to): the smallest run from the key line that parses and holds the key. */
function keySpan(lines: readonly string[], from: number, to: number, key: readonly string[]): { from: number; to: number } | null {
  const part = (p: string): string => {
    const e = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return `(?:${e}|"${e}"|'${e}')`;
  };
  const pattern = new RegExp(`^\\s*${key.map(part).join('\\s*\\.\\s*')}\\s*=`);
  for (let i = from; i < to; i++) {
    if (!pattern.test(lines[i] ?? '')) continue;
    for (let j = i; j < Math.min(to, i + MAX_SPAN_LINES); j++) {
      let doc: unknown;
      try {
        doc = parse(lines.slice(i, j + 1).join('\n'));
      } catch {
        continue;
      }
      let value: unknown = doc;
      for (const k of key) value = isObj(value) ? value[k] : undefined;
      return value === undefined ? null : { from: i, to: j };
    }
    return null;
  }
  return null;
}

/** A string, boolean or finite number as TOML; null for anything else (left to the user). */
function tomlScalar(value: unknown): string | null {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  return null;
}

/** The edited document equals the original with only this server's command, args and moved env changed. */
function sameAfterRouting(before: string, after: string, file: string, name: string, launcher: McpLauncher, args: readonly string[], moved: readonly Secret[]): boolean {
  let next: Obj;
  try {
    next = plain(parseToml(after, file));
  } catch {
    return false;
  }
  const expected = plain(parseToml(before, file));
  const server = (expected.mcp_servers as Obj)[name] as Obj;
  server.command = launcher.command;
  server.args = [...args];
  if (isObj(server.env)) for (const s of moved) delete server.env[s.variable];
  for (const doc of [expected, next]) {
    const entry = isObj(doc.mcp_servers) ? doc.mcp_servers[name] : undefined;
    if (isObj(entry) && isObj(entry.env) && Object.keys(entry.env).length === 0) delete entry.env;
  }
  return isDeepStrictEqual(next, expected);
}

function parseToml(text: string, file: string): Obj {
  try {
    return parse(text) as Obj;
  } catch (error) {
    throw new ProtectRefusal(`${file} is not valid TOML (${error instanceof Error ? error.message.split('\n')[0] : 'parse error'}); fix it first`);
  }
}

/** Plain JSON values (smol-toml's tables have no Object.prototype; dates become strings). */
function plain(value: Obj): Obj {
  return JSON.parse(JSON.stringify(value)) as Obj;
}
