/**
 * Codex's PreToolUse hook (Claude Code's format): its shell tools (Bash, shell, exec_command,
 * local_shell) -> command, mcp__<server>__<tool> -> MCP. Answers like Claude Code.
 */
import type { LocalAction } from '../api/policy.ts';
import { commandText, mcpFromToolName, type Json } from './fields.ts';
import { formatPreToolUse, parsePreToolUse } from './claudeCode.ts';
import type { HookAdapter } from './types.ts';

const SHELL_TOOLS = new Set(['Bash', 'shell', 'exec_command', 'local_shell', 'container.exec', 'unified_exec']);

export const codexAdapter: HookAdapter = {
  agent: 'codex',
  parse: (input) => parsePreToolUse(input, codexTool),
  format: formatPreToolUse,
};

function codexTool(tool: string, toolInput: Json | undefined): LocalAction | null | undefined {
  if (SHELL_TOOLS.has(tool)) {
    const command = commandText(toolInput?.command) ?? commandText(toolInput?.cmd);
    return command ? { kind: 'command', command } : undefined;
  }
  return mcpFromToolName(tool);
}
