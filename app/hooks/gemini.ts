/**
 * Gemini CLI's BeforeTool hook: run_shell_command -> command, read_file/read_many_files -> file
 * read, write_file/replace -> file write, MCP tools (mcp_context, or mcp__server__tool) -> MCP.
 * A deny answers {"decision":"block"} and exits 2: both block in Gemini CLI.
 */
import type { LocalAction } from '../api/policy.ts';
import { commandText, isObject, mcpFromToolName, obj, str, type Json } from './fields.ts';
import { withContext } from './claudeCode.ts';
import type { HookAdapter, HookEvent, HookOutput, HookVerdict, ParseOutcome } from './types.ts';

export const geminiAdapter: HookAdapter = { agent: 'gemini-cli', parse, format };

function parse(input: unknown): ParseOutcome {
  if (!isObject(input)) return { ok: false, message: 'the hook input is not a JSON object' };
  const event = str(input, 'hook_event_name') ?? 'BeforeTool';
  const tool = str(input, 'tool_name');
  if (!tool) return { ok: false, message: `the ${event} input has no tool_name` };
  const action = geminiTool(tool, obj(input, 'tool_input'), obj(input, 'mcp_context'));
  if (action === undefined) return { ok: false, message: `the ${event} input for ${tool.slice(0, 64)} lacks the field Cordon checks` };
  return { ok: true, event: withContext({ action, event, tool }, str(input, 'session_id'), str(input, 'cwd')) };
}

function geminiTool(tool: string, toolInput: Json | undefined, mcp: Json | undefined): LocalAction | null | undefined {
  if (mcp) {
    const server = str(mcp, 'server_name', 'serverName', 'server');
    const name = str(mcp, 'tool_name', 'toolName', 'tool') ?? tool;
    return server ? { kind: 'mcp', server, tool: name } : undefined;
  }
  switch (tool) {
    case 'run_shell_command': {
      const command = commandText(toolInput?.command);
      return command ? { kind: 'command', command } : undefined;
    }
    case 'read_file': {
      const path = str(toolInput, 'file_path', 'absolute_path', 'path');
      return path ? { kind: 'file', path, operation: 'read' } : undefined;
    }
    case 'write_file':
    case 'replace': {
      const path = str(toolInput, 'file_path', 'absolute_path', 'path');
      return path ? { kind: 'file', path, operation: 'write' } : undefined;
    }
    default:
      return mcpFromToolName(tool);
  }
}

function format(verdict: HookVerdict, _event: HookEvent | null): HookOutput {
  if (verdict.decision === 'allow') return { stdout: '', stderr: verdict.warning ? `${verdict.warning}\n` : '', exitCode: 0 };
  return { stdout: `${JSON.stringify({ decision: 'block', reason: verdict.reason })}\n`, stderr: `${verdict.reason}\n`, exitCode: 2 };
}
