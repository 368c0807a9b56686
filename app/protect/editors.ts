/**
 * What Cordon writes into each kind of agent file, and how it takes it out again: the hook entry
 * in each agent's own shape, the proxy and CA environment where the agent has a place for it.
 * (MCP routing, layered under these edits, is mcpRoute.ts.)
 */
import type { AgentFileRole } from './locations.ts';
import {
  hookStatus,
  isObj,
  putFlatHooks,
  putNestedHooks,
  readObject,
  removeFlatHooks,
  removeNestedHooks,
  setAt,
} from './jsonEdit.ts';
import { codexHooksDisabled, mcpServerEnvStatus, putMcpServerEnv, removeMcpServerEnv } from './tomlEdit.ts';
import { ProtectRefusal, type FileRecord, type FileState, type ProtectSettings } from './types.ts';

export type EnvRecord = FileRecord['env'];

export type Applied = Readonly<{ text: string; env: EnvRecord; notes: readonly string[] }>;

export type Editor = Readonly<{
  /** The file with Cordon's entries (replacing older ones of Cordon's). */
  apply(text: string | null, file: string, settings: ProtectSettings): Applied;
  /** The file without Cordon's entries; env keys go back to what they were, if the user left Cordon's value. */
  remove(text: string, file: string, env: EnvRecord): string;
  state(text: string | null, file: string, hookCommand: string, env: EnvRecord): Omit<FileState, 'path' | 'exists'>;
}>;

const CLAUDE_EVENTS = ['PreToolUse'];
const CLAUDE_MATCHER = 'Bash|PowerShell|Read|Edit|MultiEdit|Write|NotebookEdit|mcp__.*';
const GEMINI_EVENTS = ['BeforeTool'];
const CODEX_EVENTS = ['PreToolUse'];
const CURSOR_EVENTS = ['beforeShellExecution', 'beforeMCPExecution', 'beforeReadFile'];
const WINDSURF_EVENTS = ['pre_run_command', 'pre_mcp_tool_use', 'pre_read_code', 'pre_write_code'];

/** The proxy variables for an agent's own `env` (Claude Code) or an MCP server's (Codex). */
export function proxyVars(settings: ProtectSettings, forMcpServer: boolean): Record<string, string> {
  if (!settings.proxyUrl) return {};
  const vars: Record<string, string> = {
    HTTPS_PROXY: settings.proxyUrl,
    HTTP_PROXY: settings.proxyUrl,
    NO_PROXY: settings.noProxy,
  };
  if (!forMcpServer) Object.assign(vars, { https_proxy: settings.proxyUrl, http_proxy: settings.proxyUrl, no_proxy: settings.noProxy });
  else vars.NODE_USE_ENV_PROXY = '1';
  if (settings.caFile) vars.NODE_EXTRA_CA_CERTS = settings.caFile;
  return vars;
}

const claudeSettings: Editor = {
  apply(text, file, settings) {
    let out = putNestedHooks(text, file, CLAUDE_EVENTS, {
      matcher: CLAUDE_MATCHER,
      hooks: [{ type: 'command', command: settings.hookCommand, timeout: settings.hookTimeoutSeconds }],
    });
    const env: EnvRecord = {};
    const current = readObject(out, file).env;
    if (current !== undefined && !isObj(current)) throw new ProtectRefusal(`${file}: "env" is not an object`);
    for (const [key, value] of Object.entries(proxyVars(settings, false))) {
      const previous = isObj(current) && typeof current[key] === 'string' ? (current[key] as string) : null;
      env[key] = { ours: value, previous };
      if (previous !== value) out = setAt(out, ['env', key], value);
    }
    const notes = settings.proxyUrl ? [] : ['no proxy URL (daemon not running and no --proxy): installed the hook only'];
    return { text: out, env, notes };
  },
  remove(text, file, env) {
    let out = removeNestedHooks(text, file, CLAUDE_EVENTS);
    out = restoreEnv(out, file, env);
    return out;
  },
  state(text, file, hookCommand, env) {
    const doc = safeObject(text, file);
    const problems: string[] = [];
    if (doc.disableAllHooks === true) problems.push('disableAllHooks is true: Claude Code skips the hooks in this file');
    return { hook: hookStatus(doc, CLAUDE_EVENTS, hookCommand, true), env: envStatus(doc, env), problems };
  },
};

const geminiSettings: Editor = {
  apply(text, file, settings) {
    const out = putNestedHooks(text, file, GEMINI_EVENTS, {
      matcher: '.*',
      hooks: [{ type: 'command', command: settings.hookCommand, name: 'cordon', timeout: settings.hookTimeoutSeconds * 1000 }],
    });
    return { text: out, env: {}, notes: ['Gemini CLI has no settings key for the proxy environment: run it with `cordon run` to route its traffic'] };
  },
  remove: (text, file) => removeNestedHooks(text, file, GEMINI_EVENTS),
  state(text, file, hookCommand) {
    const doc = safeObject(text, file);
    const problems: string[] = [];
    const cfg = doc.hooksConfig;
    if (isObj(cfg) && cfg.enabled === false) problems.push('hooksConfig.enabled is false: Gemini CLI runs no hooks');
    if (isObj(cfg) && Array.isArray(cfg.disabled) && cfg.disabled.includes('cordon')) problems.push('hooksConfig.disabled lists "cordon"');
    return { hook: hookStatus(doc, GEMINI_EVENTS, hookCommand, true), env: 'n/a', problems };
  },
};

const codexHooks: Editor = {
  apply(text, file, settings) {
    const out = putNestedHooks(text, file, CODEX_EVENTS, { hooks: [{ type: 'command', command: settings.hookCommand, timeout: settings.hookTimeoutSeconds }] });
    return { text: out, env: {}, notes: ['Codex runs user hooks only after you trust them (it asks once); managed hooks need no trust step'] };
  },
  remove: (text, file) => removeNestedHooks(text, file, CODEX_EVENTS),
  state: (text, file, hookCommand) => ({ hook: hookStatus(safeObject(text, file), CODEX_EVENTS, hookCommand, true), env: 'n/a', problems: [] }),
};

const codexConfig: Editor = {
  apply(text, file, settings) {
    const vars = proxyVars(settings, true);
    const edit = putMcpServerEnv(text, file, vars);
    const env: EnvRecord = {};
    if (edit.servers.length > 0) for (const [k, v] of Object.entries(vars)) env[k] = { ours: v, previous: null };
    const notes = edit.skipped.map((s) => `MCP server "${s}" is not written as a [mcp_servers.${s}] table: its env was left alone`);
    return { text: edit.servers.length > 0 ? edit.text : (text ?? ''), env, notes };
  },
  remove: (text) => removeMcpServerEnv(text),
  state(text, _file, _hookCommand, env) {
    const vars = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.ours]));
    const problems = codexHooksDisabled(text) ? ['[features] hooks = false: Codex runs no hooks'] : [];
    return { hook: 'n/a', env: Object.keys(vars).length > 0 ? mcpServerEnvStatus(text, vars) : 'n/a', problems };
  },
};

const cursorHooks: Editor = {
  apply: (text, file, settings) => ({ text: putFlatHooks(text, file, CURSOR_EVENTS, { command: settings.hookCommand }, { version: 1 }), env: {}, notes: [] }),
  remove: (text, file) => removeFlatHooks(text, file, CURSOR_EVENTS),
  state: (text, file, hookCommand) => ({ hook: hookStatus(safeObject(text, file), CURSOR_EVENTS, hookCommand, false), env: 'n/a', problems: [] }),
};

const windsurfHooks: Editor = {
  apply: (text, file, settings) => ({ text: putFlatHooks(text, file, WINDSURF_EVENTS, { command: settings.hookCommand, show_output: false }), env: {}, notes: [] }),
  remove: (text, file) => removeFlatHooks(text, file, WINDSURF_EVENTS),
  state: (text, file, hookCommand) => ({ hook: hookStatus(safeObject(text, file), WINDSURF_EVENTS, hookCommand, false), env: 'n/a', problems: [] }),
};

/** A file edited only to route MCP servers (mcpRoute.ts does that): no hook, no environment. */
const mcpConfig: Editor = {
  apply: (text) => ({ text: text ?? '', env: {}, notes: [] }),
  remove: (text) => text,
  state: () => ({ hook: 'n/a', env: 'n/a', problems: [] }),
};

export const EDITORS: Readonly<Record<AgentFileRole, Editor>> = {
  'claude-settings': claudeSettings,
  'gemini-settings': geminiSettings,
  'codex-hooks': codexHooks,
  'codex-config': codexConfig,
  'cursor-hooks': cursorHooks,
  'windsurf-hooks': windsurfHooks,
  'mcp-config': mcpConfig,
};

function restoreEnv(text: string, file: string, env: EnvRecord): string {
  let out = text;
  for (const [key, { ours, previous }] of Object.entries(env)) {
    const current = readObject(out, file).env;
    if (!isObj(current) || current[key] !== ours) continue;
    out = setAt(out, ['env', key], previous ?? undefined);
  }
  const after = readObject(out, file).env;
  if (isObj(after) && Object.keys(after).length === 0 && Object.keys(env).length > 0) out = setAt(out, ['env'], undefined);
  return out;
}

function envStatus(doc: Record<string, unknown>, env: EnvRecord): 'ok' | 'missing' | 'n/a' {
  const keys = Object.entries(env);
  if (keys.length === 0) return 'n/a';
  const current = doc.env;
  return isObj(current) && keys.every(([k, v]) => current[k] === v.ours) ? 'ok' : 'missing';
}

function safeObject(text: string | null, file: string): Record<string, unknown> {
  try {
    return readObject(text, file);
  } catch {
    return {};
  }
}
