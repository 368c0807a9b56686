// The real Claude Code CLI (npm @anthropic-ai/claude-code), driven offline against a local fake
// of the Anthropic Messages API that answers with a Bash tool_use, protected by
// `cordon agents protect claude-code`: a denied command never runs and is in the audit trail;
// an allowed one runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { agentsCommands } from '../../app/cli/commands/agents.ts';
import { startDaemonProcess, type DaemonHandle } from '../helpers/daemonProcess.ts';

const CLAUDE = new URL('../../node_modules/.bin/claude', import.meta.url).pathname;
const hasClaude = existsSync(CLAUDE);

let api: Server;
let apiPort = 0;
let daemon: DaemonHandle;
let home: string;
let cordonHome: string;
let work: string;
let nextCommand = '';

/** One SSE response of the Messages API. */
function sse(res: ServerResponse, content: { type: 'text'; text: string } | { type: 'tool_use'; command: string }): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: object): void => void res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', { message: { id: `msg_${Date.now()}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } });
  if (content.type === 'text') {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: content.text } });
  } else {
    send('content_block_start', { index: 0, content_block: { type: 'tool_use', id: `toolu_${Date.now()}`, name: 'Bash', input: {} } });
    send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify({ command: content.command, description: 'run it' }) } });
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', { delta: { stop_reason: content.type === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } });
  send('message_stop', {});
  res.end();
}

function runClaude(prompt: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLAUDE, ['-p', prompt, '--output-format', 'json', '--allowedTools', 'Bash'], {
      cwd: work,
      env: {
        ...daemon.env,
        HOME: home,
        ANTHROPIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
        ANTHROPIC_API_KEY: 'fake',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  if (!hasClaude) return;
  api = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404).end('{}');
        return;
      }
      let parsed: { tools?: unknown[]; messages?: { content: unknown }[]; stream?: boolean } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // Answered as a side request below.
      }
      const main = Array.isArray(parsed.tools) && parsed.tools.length > 0;
      const afterTool = JSON.stringify(parsed.messages ?? []).includes('tool_result');
      if (req.url.includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      if (parsed.stream === false) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'msg_side', type: 'message', role: 'assistant', model: 'claude-haiku', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }));
        return;
      }
      sse(res, main && !afterTool ? { type: 'tool_use', command: nextCommand } : { type: 'text', text: 'done' });
    });
  });
  apiPort = await new Promise<number>((resolve) => api.listen(0, '127.0.0.1', () => resolve((api.address() as AddressInfo).port)));
  home = mkdtempSync(join(tmpdir(), 'cordon-cc-home-'));
  work = mkdtempSync(join(tmpdir(), 'cordon-cc-work-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-cc-'));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', approvalTimeoutSeconds: 5 }));
  writeFileSync(join(cordonHome, 'config', 'policy.yaml'), ['version: 1', 'local:', '  - id: no-pwn', '    action: deny', '    commands: ["touch *pwned*"]', '  - id: echo-ok', '    action: allow', '    commands: ["echo ok*"]', ''].join('\n'));
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-cc-${process.pid}` } });
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const protect = agentsCommands.find((c) => c.name === 'agents protect')!;
  const argv = ['claude-code', '--scope', 'user'];
  const parsed = parseArgs({ args: argv, options: protect.options, allowPositionals: true, strict: true });
  const code = await protect.run({ stdout, stderr: stdout, env: { ...daemon.env, HOME: home }, paths: daemon.paths, cwd: work }, { values: parsed.values as never, positionals: parsed.positionals, rest: [] });
  assert.equal(code, 0, out);
});

after(async () => {
  await daemon?.cleanup();
  api?.close();
  for (const dir of [home, work, cordonHome]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('claude-code settings get the hook and the proxy environment', { skip: !hasClaude && 'the claude CLI is not installed' }, () => {
  const settings = JSON.parse(readFileSync(join(home, '.claude', 'settings.json'), 'utf8'));
  assert.match(settings.hooks.PreToolUse[0].hooks[0].command, /cordon-hook\.js' hook claude-code$|cordon-hook\.js hook claude-code$/);
  assert.match(settings.env.HTTPS_PROXY, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(settings.env.NO_PROXY, 'localhost,127.0.0.1,::1');
});

test('a denied Bash command never runs and its deny is in the audit', { skip: !hasClaude && 'the claude CLI is not installed', timeout: 120_000 }, async () => {
  const marker = join(work, 'pwned');
  nextCommand = `touch ${marker}`;
  const run = await runClaude('create the marker file');
  assert.ok(!existsSync(marker), `the denied command ran: ${run.stdout} ${run.stderr}`);
  const client = await daemon.connect();
  try {
    const events = await client.call('events', { limit: 200 });
    // The daemon redacts the temp path in the command; the rule and Claude's session id identify it.
    const sessionId = (JSON.parse(run.stdout) as { session_id: string }).session_id;
    const hit = events.find((e) => e.type === 'local.deny' && (e.data as { decision: { rule: string } }).decision.rule.includes('no-pwn') && (e.data as { sessionId: string }).sessionId === sessionId);
    assert.ok(hit, `no local.deny in audit: ${JSON.stringify(events.filter((e) => e.type.startsWith('local')))}; claude said: ${run.stdout.slice(0, 300)} ${run.stderr.slice(0, 2000)}`);
    assert.equal((hit.data as { source: string }).source, 'hook:claude-code');
  } finally {
    client.close();
  }
});

test('an allowed Bash command runs', { skip: !hasClaude && 'the claude CLI is not installed', timeout: 120_000 }, async () => {
  const allowed = join(work, 'allowed');
  nextCommand = `echo ok > ${allowed}`;
  const run = await runClaude('write ok');
  assert.ok(existsSync(allowed), `the allowed command did not run: ${run.stdout.slice(0, 2000)} ${run.stderr.slice(0, 2000)}`);
  assert.equal(readFileSync(allowed, 'utf8').trim(), 'ok');
});
