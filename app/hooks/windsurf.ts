/**
 * Windsurf (Cascade) hooks: pre_run_command -> command, pre_read_code -> file read,
 * pre_write_code -> file write, pre_mcp_tool_use -> MCP. Only exit code 2 is known to block, so a
 * deny is exit 2 with the reason on stderr.
 */
import type { LocalAction } from '../api/policy.ts';
import { isObject, obj, str } from './fields.ts';
import { withContext } from './claudeCode.ts';
import type { HookAdapter, HookEvent, HookOutput, HookVerdict, ParseOutcome } from './types.ts';

export const windsurfAdapter: HookAdapter = { agent: 'windsurf', parse, format };

function parse(input: unknown): ParseOutcome {
  if (!isObject(input)) return { ok: false, message: 'the hook input is not a JSON object' };
  const event = str(input, 'agent_action_name', 'hook_event_name');
  if (!event) return { ok: false, message: 'the Windsurf hook input has no agent_action_name' };
  const info = obj(input, 'tool_info');
  let action: LocalAction | null | undefined = null;
  let tool = event;
  if (event === 'pre_run_command') {
    const command = str(info, 'command_line', 'command');
    action = command ? { kind: 'command', command } : undefined;
  } else if (event === 'pre_read_code' || event === 'pre_write_code') {
    const path = str(info, 'file_path', 'path');
    action = path ? { kind: 'file', path, operation: event === 'pre_read_code' ? 'read' : 'write' } : undefined;
  } else if (event === 'pre_mcp_tool_use') {
    const server = str(info, 'mcp_server_name', 'server_name');
    const name = str(info, 'mcp_tool_name', 'tool_name');
    tool = name ?? event;
    action = server && name ? { kind: 'mcp', server, tool: name } : undefined;
  }
  if (action === undefined) return { ok: false, message: `the Windsurf ${event} input lacks the field Cordon checks` };
  return { ok: true, event: withContext({ action, event, tool }, str(input, 'trajectory_id', 'session_id'), str(info, 'cwd') ?? str(input, 'cwd')) };
}

function format(verdict: HookVerdict, _event: HookEvent | null): HookOutput {
  if (verdict.decision === 'allow') return { stdout: '', stderr: verdict.warning ? `${verdict.warning}\n` : '', exitCode: 0 };
  return { stdout: '', stderr: `${verdict.reason}\n`, exitCode: 2 };
}
