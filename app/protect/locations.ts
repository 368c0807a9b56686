/**
 * Where each agent reads the files Cordon edits, per scope. Managed (system) locations can be
 * rooted elsewhere with CORDON_PROTECT_SYSTEM_ROOT (tests, staging an image).
 */
import { join } from 'node:path';
import type { FileFormat, ProtectAgent, ProtectScope, ProtectWhere } from './types.ts';

export const SYSTEM_ROOT_ENV = 'CORDON_PROTECT_SYSTEM_ROOT';

/** One file of an agent, and what Cordon puts in it. */
export type AgentFile = Readonly<{ path: string; format: FileFormat; role: AgentFileRole }>;

export type AgentFileRole =
  | 'claude-settings'
  | 'cursor-hooks'
  | 'gemini-settings'
  | 'codex-hooks'
  | 'codex-config'
  | 'windsurf-hooks'
  /** A file Cordon edits only to route MCP servers (--mcp): Claude Code's ~/.claude.json, Cursor's and Windsurf's MCP configs. */
  | 'mcp-config';

/** The files Cordon edits to protect `agent` in `scope`. */
export function agentFiles(agent: ProtectAgent, scope: ProtectScope, where: ProtectWhere): AgentFile[] {
  const home = where.home;
  const sys = (linux: string, mac: string, win: string): string => {
    const root = where.env[SYSTEM_ROOT_ENV];
    const native = where.platform === 'darwin' ? mac : where.platform === 'win32' ? win : linux;
    return root ? join(root, native.replace(/^[A-Za-z]:/, '')) : native;
  };
  switch (agent) {
    case 'claude-code':
      return [{
        role: 'claude-settings',
        format: 'jsonc',
        path: scope === 'user'
          ? join(where.env.CLAUDE_CONFIG_DIR || join(home, '.claude'), 'settings.json')
          : sys('/etc/claude-code/managed-settings.json', '/Library/Application Support/ClaudeCode/managed-settings.json', 'C:\\Program Files\\ClaudeCode\\managed-settings.json'),
      }];
    case 'cursor':
      return [{
        role: 'cursor-hooks',
        format: 'jsonc',
        path: scope === 'user' ? join(home, '.cursor', 'hooks.json') : sys('/etc/cursor/hooks.json', '/Library/Application Support/Cursor/hooks.json', 'C:\\ProgramData\\Cursor\\hooks.json'),
      }];
    case 'gemini-cli':
      return [{
        role: 'gemini-settings',
        format: 'jsonc',
        path: scope === 'user' ? join(home, '.gemini', 'settings.json') : sys('/etc/gemini-cli/settings.json', '/Library/Application Support/GeminiCli/settings.json', 'C:\\ProgramData\\gemini-cli\\settings.json'),
      }];
    case 'codex': {
      const codexHome = where.env.CODEX_HOME || join(home, '.codex');
      // Codex clears the environment of the MCP servers it starts: their env is in the user's config.toml.
      const config: AgentFile = { role: 'codex-config', format: 'toml', path: join(codexHome, 'config.toml') };
      if (scope === 'user') return [{ role: 'codex-hooks', format: 'jsonc', path: join(codexHome, 'hooks.json') }, config];
      return [{ role: 'codex-hooks', format: 'jsonc', path: sys('/etc/codex/hooks.json', '/etc/codex/hooks.json', 'C:\\ProgramData\\OpenAI\\Codex\\hooks.json') }, config];
    }
    case 'windsurf':
      return [{
        role: 'windsurf-hooks',
        format: 'jsonc',
        path: scope === 'user' ? join(home, '.codeium', 'windsurf', 'hooks.json') : sys('/etc/windsurf/hooks.json', '/Library/Application Support/Windsurf/hooks.json', 'C:\\ProgramData\\Windsurf\\hooks.json'),
      }];
  }
}

/**
 * The file holding the agent's user-scope MCP servers, which `protect --mcp` routes through the
 * gateway: the `mcpServers` map of a JSON file, or Codex's [mcp_servers.*] tables. Claude Code's
 * project (.mcp.json) and local (projects.<path>.mcpServers) scopes are not routed.
 */
export function mcpFile(agent: ProtectAgent, where: ProtectWhere): AgentFile {
  const home = where.home;
  switch (agent) {
    case 'claude-code':
      return { role: 'mcp-config', format: 'jsonc', path: join(where.env.CLAUDE_CONFIG_DIR || home, '.claude.json') };
    case 'cursor':
      return { role: 'mcp-config', format: 'jsonc', path: join(home, '.cursor', 'mcp.json') };
    case 'windsurf':
      return { role: 'mcp-config', format: 'jsonc', path: join(home, '.codeium', 'windsurf', 'mcp_config.json') };
    case 'gemini-cli':
    case 'codex': {
      const own = agentFiles(agent, 'user', where).find((f) => f.role === 'gemini-settings' || f.role === 'codex-config');
      if (!own) throw new Error(`no settings file for ${agent}`);
      return own;
    }
  }
}

/** The files protect edits: the agent's hook files, plus its MCP file when routing MCP servers. */
export function protectFiles(agent: ProtectAgent, scope: ProtectScope, where: ProtectWhere, routeMcp: boolean): AgentFile[] {
  const files = agentFiles(agent, scope, where);
  if (!routeMcp || scope !== 'user') return files;
  const mcp = mcpFile(agent, where);
  return files.some((f) => f.path === mcp.path) ? files : [...files, mcp];
}
