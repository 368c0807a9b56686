/**
 * Minimal textual edits of Codex's config.toml (smol-toml does not keep comments): Cordon adds
 * the proxy and CA variables to each stdio MCP server's env, because Codex clears the environment
 * of the servers it starts. Every line Cordon adds ends with TOML_MARK; a user line it replaces is
 * kept, commented out behind TOML_WAS, so removal restores the text exactly.
 */
import { parse } from 'smol-toml';
import { ProtectRefusal } from './types.ts';

export const TOML_MARK = '# cordon-protect';
export const TOML_WAS = '# cordon-protect-was: ';

type Obj = Record<string, unknown>;

export type TomlEnvEdit = Readonly<{ text: string; servers: readonly string[]; skipped: readonly string[] }>;

/** Adds `vars` to the env of every stdio server under [mcp_servers]; the result is checked by parsing it. */
export function putMcpServerEnv(text: string | null, file: string, vars: Readonly<Record<string, string>>): TomlEnvEdit {
  const clean = removeMcpServerEnv(text ?? '');
  const doc = parseToml(clean, file);
  const servers = stdioServers(doc);
  if (servers.length === 0 || Object.keys(vars).length === 0) return { text: clean, servers: [], skipped: [] };
  const eol = clean.includes('\r\n') ? '\r\n' : '\n';
  const lines = clean.split(/\r?\n/);
  const edited: string[] = [];
  const skipped: string[] = [];
  for (const name of servers) {
    const headers = headerIndex(lines);
    const envHeader = headers.find((h) => samePath(h.path, ['mcp_servers', name, 'env']));
    const serverHeader = headers.find((h) => samePath(h.path, ['mcp_servers', name]));
    const ours = Object.entries(vars).map(([k, v]) => `${k} = ${JSON.stringify(v)} ${TOML_MARK}`);
    if (envHeader) {
      const end = headers.find((h) => h.line > envHeader.line)?.line ?? lines.length;
      commentOut(lines, envHeader.line + 1, end, (line) => Object.keys(vars).some((k) => keyLine(line, k)));
      lines.splice(envHeader.line + 1, 0, ...ours);
      edited.push(name);
      continue;
    }
    if (!serverHeader) {
      skipped.push(name);
      continue;
    }
    const end = headers.find((h) => h.line > serverHeader.line)?.line ?? lines.length;
    let inline = -1;
    for (let i = serverHeader.line + 1; i < end; i++) if (/^\s*env\s*=\s*\{/.test(lines[i] ?? '')) inline = i;
    if (inline >= 0) {
      const line = lines[inline] ?? '';
      if (!/\}\s*(#.*)?$/.test(line)) {
        skipped.push(name);
        continue;
      }
      const current = (doc.mcp_servers as Obj)[name] as Obj;
      const merged = { ...(isObj(current.env) ? current.env : {}), ...vars };
      const body = Object.entries(merged).map(([k, v]) => `${bareOrQuoted(k)} = ${JSON.stringify(String(v))}`).join(', ');
      lines.splice(inline, 1, `${TOML_WAS}${line}`, `env = { ${body} } ${TOML_MARK}`);
    } else {
      commentOut(lines, serverHeader.line + 1, end, (line) => Object.keys(vars).some((k) => keyLine(line, `env.${k}`)));
      lines.splice(serverHeader.line + 1, 0, ...Object.entries(vars).map(([k, v]) => `env.${k} = ${JSON.stringify(v)} ${TOML_MARK}`));
    }
    edited.push(name);
  }
  const out = lines.join(eol);
  const check = parseToml(out, file);
  for (const name of edited) {
    const env = ((check.mcp_servers as Obj)[name] as Obj).env;
    if (!isObj(env) || Object.entries(vars).some(([k, v]) => env[k] !== v)) throw new ProtectRefusal(`${file}: could not set the environment of MCP server "${name}" safely`);
  }
  return { text: out, servers: edited, skipped };
}

/** Removes every line Cordon added and restores the lines it commented out. */
export function removeMcpServerEnv(text: string): string {
  if (!text.includes(TOML_MARK)) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(TOML_WAS)) out.push(line.slice(TOML_WAS.length));
    else if (!line.trimEnd().endsWith(TOML_MARK)) out.push(line);
  }
  return out.join(eol);
}

/** ok: every stdio server has `vars`; missing: some lacks them; n/a: no stdio servers. */
export function mcpServerEnvStatus(text: string | null, vars: Readonly<Record<string, string>>): 'ok' | 'missing' | 'n/a' {
  if (text === null) return 'n/a';
  let doc: Obj;
  try {
    doc = parse(text) as Obj;
  } catch {
    return 'missing';
  }
  const servers = stdioServers(doc);
  if (servers.length === 0 || Object.keys(vars).length === 0) return 'n/a';
  for (const name of servers) {
    const env = ((doc.mcp_servers as Obj)[name] as Obj).env;
    if (!isObj(env) || Object.entries(vars).some(([k, v]) => env[k] !== v)) return 'missing';
  }
  return 'ok';
}

/** Codex's switch that turns every hook off ([features] hooks = false, alias codex_hooks). */
export function codexHooksDisabled(text: string | null): boolean {
  if (text === null) return false;
  try {
    const features = (parse(text) as Obj).features;
    return isObj(features) && (features.hooks === false || features.codex_hooks === false);
  } catch {
    return false;
  }
}

function parseToml(text: string, file: string): Obj {
  try {
    return parse(text) as Obj;
  } catch (error) {
    throw new ProtectRefusal(`${file} is not valid TOML (${error instanceof Error ? error.message.split('\n')[0] : 'parse error'}); fix it first`);
  }
}

function stdioServers(doc: Obj): string[] {
  const servers = doc.mcp_servers;
  if (!isObj(servers)) return [];
  return Object.keys(servers).filter((name) => isObj(servers[name]) && typeof (servers[name] as Obj).command === 'string');
}

export type Header = { line: number; path: string[] };

/** Every [table] header line and its key path ([[array]] headers are not tables Cordon edits). */
export function headerIndex(lines: readonly string[]): Header[] {
  const out: Header[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*\[(?!\[)(.+?)\]\s*(#.*)?$/.exec(line);
    if (m?.[1]) out.push({ line: i, path: dottedKey(m[1]) });
  });
  return out;
}

/** `mcp_servers."my server".env` -> ["mcp_servers", "my server", "env"]. */
function dottedKey(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    const q = text[i];
    if (q === '"' || q === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== q) {
        if (q === '"' && text[j] === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
        } else value += text[j++];
      }
      parts.push(value);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== '.') j++;
      parts.push(text.slice(i, j).trim());
      i = j;
    }
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] === '.') i++;
  }
  return parts;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

function keyLine(line: string, key: string): boolean {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*(${escaped}|"${escaped}")\\s*=`).test(line);
}

function commentOut(lines: string[], from: number, to: number, match: (line: string) => boolean): void {
  for (let i = from; i < to; i++) if (match(lines[i] ?? '')) lines[i] = `${TOML_WAS}${lines[i]}`;
}

export function bareOrQuoted(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
