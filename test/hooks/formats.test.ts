// Per-agent hook formats, table-driven: the agent's JSON -> the LocalAction Cordon judges, and a
// decision -> what the hook prints and its exit code (exit 2 blocks in every agent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOOK_ADAPTERS } from '../../app/hooks/adapters.ts';
import { decideHook, type HookDeps } from '../../app/hooks/decide.ts';
import type { LocalActionRequest, LocalActionResult } from '../../app/api/control.ts';
import type { HookAgent } from '../../app/hooks/types.ts';

type Row = { agent: HookAgent; input: unknown; action: unknown; sessionId?: string; cwd?: string };

const rows: Row[] = [
  { agent: 'claude-code', input: { session_id: 's1', cwd: '/p', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'rm -rf ~', description: 'x' } }, action: { kind: 'command', command: 'rm -rf ~' }, sessionId: 's1', cwd: '/p' },
  { agent: 'claude-code', input: { hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: '/home/u/.ssh/id_rsa' } }, action: { kind: 'file', path: '/home/u/.ssh/id_rsa', operation: 'read' } },
  { agent: 'claude-code', input: { tool_name: 'MultiEdit', tool_input: { file_path: '/p/a.ts', edits: [] } }, action: { kind: 'file', path: '/p/a.ts', operation: 'write' } },
  { agent: 'claude-code', input: { tool_name: 'mcp__github__create_issue', tool_input: { title: 't' } }, action: { kind: 'mcp', server: 'github', tool: 'create_issue' } },
  { agent: 'claude-code', input: { tool_name: 'Glob', tool_input: { pattern: '*' } }, action: null },
  { agent: 'codex', input: { session_id: 'c', tool_name: 'exec_command', tool_input: { cmd: 'git push --force' } }, action: { kind: 'command', command: 'git push --force' }, sessionId: 'c' },
  { agent: 'codex', input: { tool_name: 'shell', tool_input: { command: ['bash', '-lc', 'ls -la'] } }, action: { kind: 'command', command: 'ls -la' } },
  { agent: 'codex', input: { tool_name: 'Bash', tool_input: { command: 'echo hi' } }, action: { kind: 'command', command: 'echo hi' } },
  { agent: 'cursor', input: { conversation_id: 'k', hook_event_name: 'beforeShellExecution', command: 'curl x', cwd: '/w' }, action: { kind: 'command', command: 'curl x' }, sessionId: 'k', cwd: '/w' },
  { agent: 'cursor', input: { hook_event_name: 'beforeReadFile', file_path: '/w/.env', content: 'A=1', workspace_roots: ['/w'] }, action: { kind: 'file', path: '/w/.env', operation: 'read' }, cwd: '/w' },
  { agent: 'cursor', input: { hook_event_name: 'beforeMCPExecution', tool_name: 'query', tool_input: '{}', url: 'https://db.example.com/mcp' }, action: { kind: 'mcp', server: 'db.example.com', tool: 'query' } },
  { agent: 'cursor', input: { hook_event_name: 'stop' }, action: null },
  { agent: 'gemini-cli', input: { session_id: 'g', hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'ls' } }, action: { kind: 'command', command: 'ls' }, sessionId: 'g' },
  { agent: 'gemini-cli', input: { tool_name: 'replace', tool_input: { file_path: '/p/x', old_string: 'a', new_string: 'b' } }, action: { kind: 'file', path: '/p/x', operation: 'write' } },
  { agent: 'gemini-cli', input: { tool_name: 'read_file', tool_input: { absolute_path: '/p/y' } }, action: { kind: 'file', path: '/p/y', operation: 'read' } },
  { agent: 'gemini-cli', input: { tool_name: 'search', tool_input: {}, mcp_context: { server_name: 'web', tool_name: 'search' } }, action: { kind: 'mcp', server: 'web', tool: 'search' } },
  { agent: 'gemini-cli', input: { tool_name: 'google_web_search', tool_input: {} }, action: null },
  { agent: 'windsurf', input: { agent_action_name: 'pre_run_command', trajectory_id: 't', tool_info: { command_line: 'npm i', cwd: '/w' } }, action: { kind: 'command', command: 'npm i' }, sessionId: 't', cwd: '/w' },
  { agent: 'windsurf', input: { agent_action_name: 'pre_mcp_tool_use', tool_info: { mcp_server_name: 'fs', mcp_tool_name: 'write', mcp_tool_arguments: {} } }, action: { kind: 'mcp', server: 'fs', tool: 'write' } },
  { agent: 'windsurf', input: { agent_action_name: 'pre_write_code', tool_info: { file_path: '/w/a', edits: [] } }, action: { kind: 'file', path: '/w/a', operation: 'write' } },
];

test('each agent input maps to the LocalAction Cordon judges', () => {
  for (const row of rows) {
    const parsed = HOOK_ADAPTERS[row.agent].parse(row.input);
    assert.ok(parsed.ok, `${row.agent} ${JSON.stringify(row.input)}: ${parsed.ok ? '' : parsed.message}`);
    assert.deepEqual(parsed.event.action, row.action, `${row.agent} ${JSON.stringify(row.input)}`);
    assert.equal(parsed.event.sessionId, row.sessionId);
    assert.equal(parsed.event.cwd, row.cwd);
  }
});

test('known tools with missing fields and non-objects are refused, never guessed', () => {
  const bad: [HookAgent, unknown][] = [
    ['claude-code', { tool_name: 'Bash', tool_input: {} }],
    ['claude-code', { tool_input: { command: 'ls' } }],
    ['claude-code', [1, 2]],
    ['codex', { tool_name: 'exec_command', tool_input: { cmd: 42 } }],
    ['cursor', { hook_event_name: 'beforeShellExecution' }],
    ['cursor', 'text'],
    ['gemini-cli', { tool_name: 'run_shell_command', tool_input: null }],
    ['windsurf', { agent_action_name: 'pre_read_code', tool_info: {} }],
    ['windsurf', null],
  ];
  for (const [agent, input] of bad) assert.equal(HOOK_ADAPTERS[agent].parse(input).ok, false, `${agent} ${JSON.stringify(input)}`);
});

function deps(result: Partial<LocalActionResult> | Error, mode: 'enforce' | 'monitor' | 'unknown' = 'enforce', seen: LocalActionRequest[] = []): HookDeps {
  return {
    async ask(request) {
      seen.push(request);
      if (result instanceof Error) throw result;
      return { action: 'allow', auditId: 'evt_1', message: '', decision: { action: 'allow', rule: 'r', layer: 'user', reasons: [], policyAction: 'allow' }, ...result } as LocalActionResult;
    },
    fallbackMode: async () => mode,
  };
}

const bash = JSON.stringify({ session_id: 's', cwd: '/p', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'rm -rf ~' } });

test('a deny is exit 2 with the reason on stderr, in every agent, plus the agent\'s own JSON', async () => {
  const inputs: Record<HookAgent, string> = {
    'claude-code': bash,
    codex: bash,
    cursor: JSON.stringify({ hook_event_name: 'beforeShellExecution', command: 'rm -rf ~' }),
    'gemini-cli': JSON.stringify({ hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'rm -rf ~' } }),
    windsurf: JSON.stringify({ agent_action_name: 'pre_run_command', tool_info: { command_line: 'rm -rf ~' } }),
  };
  for (const [agent, stdin] of Object.entries(inputs) as [HookAgent, string][]) {
    const seen: LocalActionRequest[] = [];
    const out = await decideHook(agent, stdin, deps({ action: 'deny', message: 'Cordon blocked command rm -rf ~ (audit evt_9)' }, 'enforce', seen), { pid: 1234 });
    assert.equal(out.exitCode, 2, agent);
    assert.match(out.stderr, /Cordon blocked command rm -rf ~/);
    assert.deepEqual(seen[0]?.action, { kind: 'command', command: 'rm -rf ~' });
    assert.equal(seen[0]?.source, `hook:${agent}`);
    assert.equal(seen[0]?.pid, 1234);
    if (agent === 'claude-code' || agent === 'codex') {
      const json = JSON.parse(out.stdout);
      assert.equal(json.hookSpecificOutput.permissionDecision, 'deny');
      assert.match(json.hookSpecificOutput.permissionDecisionReason, /audit evt_9/);
    }
    if (agent === 'cursor') assert.equal(JSON.parse(out.stdout).permission, 'deny');
    if (agent === 'gemini-cli') assert.equal(JSON.parse(out.stdout).decision, 'block');
  }
});

test('allow and log exit 0 without loosening the agent\'s own prompts', async () => {
  for (const action of ['allow', 'log'] as const) {
    const out = await decideHook('claude-code', bash, deps({ action }));
    assert.deepEqual(out, { stdout: '', stderr: '', exitCode: 0 });
  }
  const cursor = await decideHook('cursor', JSON.stringify({ hook_event_name: 'beforeShellExecution', command: 'ls' }), deps({ action: 'allow' }));
  assert.equal(JSON.parse(cursor.stdout).permission, 'allow');
  assert.equal(cursor.exitCode, 0);
});

test('daemon unreachable: deny in enforce or unknown mode, allow with a warning in monitor', async () => {
  const down = new Error('the Cordon daemon is not running');
  for (const mode of ['enforce', 'unknown'] as const) {
    const out = await decideHook('gemini-cli', JSON.stringify({ tool_name: 'run_shell_command', tool_input: { command: 'ls' } }), deps(down, mode));
    assert.equal(out.exitCode, 2, mode);
    assert.match(out.stderr, /fails closed/);
  }
  const monitor = await decideHook('codex', bash, deps(down, 'monitor'));
  assert.equal(monitor.exitCode, 0);
  assert.match(monitor.stderr, /monitor mode/);
});

test('malformed stdin and oversized actions fail closed in enforce; unknown tools pass without asking', async () => {
  for (const stdin of ['', 'not json', '{"tool_name": 5}', 'null']) {
    const out = await decideHook('claude-code', stdin, deps({ action: 'allow' }));
    assert.equal(out.exitCode, 2, JSON.stringify(stdin));
  }
  const seen: LocalActionRequest[] = [];
  const huge = JSON.stringify({ tool_name: 'Bash', tool_input: { command: 'x'.repeat(70_000) } });
  assert.equal((await decideHook('claude-code', huge, deps({ action: 'allow' }, 'enforce', seen))).exitCode, 2);
  const glob = await decideHook('claude-code', JSON.stringify({ tool_name: 'Glob', tool_input: {} }), deps({ action: 'deny' }, 'enforce', seen));
  assert.equal(glob.exitCode, 0);
  assert.equal(seen.length, 0, 'neither the oversized command nor the unknown tool reached the daemon');
});

test('a throwing mode lookup still fails closed', async () => {
  const out = await decideHook('windsurf', '{', { ask: async () => { throw new Error('x'); }, fallbackMode: async () => { throw new Error('boom'); } });
  assert.equal(out.exitCode, 2);
  assert.equal(out.stdout, '');
});
