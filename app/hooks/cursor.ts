/**
 * Cursor's hooks: beforeShellExecution -> command, beforeReadFile -> file read,
 * beforeMCPExecution -> MCP. Answers {"permission", "user_message", "agent_message"} (camelCase
 * copies too, for builds that read those), and a deny also exits 2, which every build honours.
 */
import type { LocalAction } from '../api/policy.ts';
import { isObject, str } from './fields.ts';
import { withContext } from './claudeCode.ts';
import type { HookAdapter, HookEvent, HookOutput, HookVerdict, ParseOutcome } from './types.ts';

export const cursorAdapter: HookAdapter = { agent: 'cursor', parse, format };

function parse(input: unknown): ParseOutcome {
  if (!isObject(input)) return { ok: false, message: 'the hook input is not a JSON object' };
  const event = str(input, 'hook_event_name');
  if (!event) return { ok: false, message: 'the Cursor hook input has no hook_event_name' };
  let action: LocalAction | null | undefined = null;
  let tool = event;
  if (event === 'beforeShellExecution') {
    const command = str(input, 'command');
    action = command ? { kind: 'command', command } : undefined;
  } else if (event === 'beforeReadFile' || event === 'beforeTabFileRead') {
    const path = str(input, 'file_path');
    action = path ? { kind: 'file', path, operation: 'read' } : undefined;
  } else if (event === 'beforeMCPExecution') {
    const name = str(input, 'tool_name');
    const server = str(input, 'server_name', 'server') ?? serverFromTarget(str(input, 'url'), str(input, 'command'));
    tool = name ?? event;
    action = name && server ? { kind: 'mcp', server, tool: name } : undefined;
  }
  if (action === undefined) return { ok: false, message: `the Cursor ${event} input lacks the field Cordon checks` };
  const roots = Array.isArray(input.workspace_roots) ? input.workspace_roots : [];
  const cwd = str(input, 'cwd') ?? (typeof roots[0] === 'string' ? roots[0] : undefined);
  return { ok: true, event: withContext({ action, event, tool }, str(input, 'conversation_id', 'session_id'), cwd) };
}

/** Cursor names no server for MCP calls: the URL's host or the command's program stands in. */
function serverFromTarget(url: string | undefined, command: string | undefined): string | undefined {
  if (url) {
    try {
      return new URL(url).host || undefined;
    } catch {
      return undefined;
    }
  }
  const program = command?.trim().split(/\s+/)[0];
  return program ? (program.split('/').pop() ?? program) : undefined;
}

function format(verdict: HookVerdict, _event: HookEvent | null): HookOutput {
  if (verdict.decision === 'allow') return { stdout: `${JSON.stringify({ permission: 'allow' })}\n`, stderr: verdict.warning ? `${verdict.warning}\n` : '', exitCode: 0 };
  const body = { permission: 'deny', user_message: verdict.reason, agent_message: verdict.reason, userMessage: verdict.reason, agentMessage: verdict.reason };
  return { stdout: `${JSON.stringify(body)}\n`, stderr: `${verdict.reason}\n`, exitCode: 2 };
}
