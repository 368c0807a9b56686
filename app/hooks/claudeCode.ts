/**
 * Claude Code's PreToolUse hook: Bash -> command, Read -> file read, Edit/Write/MultiEdit/
 * NotebookEdit -> file write, mcp__<server>__<tool> -> MCP. A deny exits 2 with the reason on
 * stderr (blocks in every Claude Code version) and also prints the structured deny.
 */
import type { LocalAction } from '../api/policy.ts';
import { commandText, isObject, mcpFromToolName, obj, str, type Json } from './fields.ts';
import type { HookAdapter, HookEvent, HookOutput, HookVerdict, ParseOutcome } from './types.ts';

const WRITE_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);

export const claudeCodeAdapter: HookAdapter = {
  agent: 'claude-code',
  parse: (input) => parsePreToolUse(input, claudeTool),
  format: formatPreToolUse,
};

/** Claude Code's tool names -> LocalAction; undefined = a known tool with bad input, null = not judged. */
function claudeTool(tool: string, toolInput: Json | undefined): LocalAction | null | undefined {
  if (tool === 'Bash' || tool === 'PowerShell') {
    const command = commandText(toolInput?.command);
    return command ? { kind: 'command', command } : undefined;
  }
  if (tool === 'Read') {
    const path = str(toolInput, 'file_path');
    return path ? { kind: 'file', path, operation: 'read' } : undefined;
  }
  if (WRITE_TOOLS.has(tool)) {
    const path = str(toolInput, 'file_path', 'notebook_path');
    return path ? { kind: 'file', path, operation: 'write' } : undefined;
  }
  return mcpFromToolName(tool);
}

/**
 * The PreToolUse input shared by Claude Code and Codex: {session_id, cwd, hook_event_name,
 * tool_name, tool_input}. mapTool turns one tool into an action.
 */
export function parsePreToolUse(input: unknown, mapTool: (tool: string, toolInput: Json | undefined) => LocalAction | null | undefined): ParseOutcome {
  if (!isObject(input)) return { ok: false, message: 'the hook input is not a JSON object' };
  const event = str(input, 'hook_event_name') ?? 'PreToolUse';
  const tool = str(input, 'tool_name');
  if (!tool) return { ok: false, message: `the ${event} input has no tool_name` };
  const action = mapTool(tool, obj(input, 'tool_input'));
  if (action === undefined) return { ok: false, message: `the ${event} input for ${tool.slice(0, 64)} lacks the field Cordon checks` };
  return { ok: true, event: withContext({ action, event, tool }, str(input, 'session_id'), str(input, 'cwd')) };
}

/** Answer in the PreToolUse format (Claude Code, Codex). Allow prints nothing: Cordon never loosens the agent's own permission prompts. */
export function formatPreToolUse(verdict: HookVerdict, event: HookEvent | null): HookOutput {
  if (verdict.decision === 'allow') return { stdout: '', stderr: verdict.warning ? `${verdict.warning}\n` : '', exitCode: 0 };
  const stdout = JSON.stringify({
    hookSpecificOutput: { hookEventName: event?.event ?? 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.reason },
  });
  return { stdout: `${stdout}\n`, stderr: `${verdict.reason}\n`, exitCode: 2 };
}

export function withContext(base: HookEvent, sessionId: string | undefined, cwd: string | undefined): HookEvent {
  return { ...base, ...(sessionId ? { sessionId } : {}), ...(cwd ? { cwd } : {}) };
}
