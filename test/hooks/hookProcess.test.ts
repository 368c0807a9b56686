// The hook program as agents run it (bin/cordon-hook.js, a real process) against a real daemon:
// deny format and exit code, allow, malformed stdin, and a daemon that is down in enforce and
// monitor mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonProcess, testEnv, type DaemonHandle } from '../helpers/daemonProcess.ts';

const HOOK_BIN = new URL('../../bin/cordon-hook.js', import.meta.url).pathname;
let daemon: DaemonHandle;
let home: string;
let cordonHome: string;

type Run = { code: number | null; stdout: string; stderr: string };

function runHook(agent: string, stdin: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOOK_BIN, 'hook', agent], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the hook did not exit in time: ${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

function homeWithSettings(settings: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-hook-down-'));
  mkdirSync(join(dir, 'config'), { recursive: true });
  writeFileSync(join(dir, 'config', 'settings.json'), JSON.stringify(settings));
  return dir;
}

const claudeBash = (command: string): string => JSON.stringify({ session_id: 'sess-1', cwd: '/work/p', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } });

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'cordon-hookp-home-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-hookp-'));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', approvalTimeoutSeconds: 5 }));
  writeFileSync(join(cordonHome, 'config', 'policy.yaml'), ['version: 1', 'local:', '  - id: no-rm-home', '    action: deny', '    commands: ["rm -rf ~*"]', '  - id: ls-ok', '    action: allow', '    commands: ["ls*"]', ''].join('\n'));
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-hookp-${process.pid}` } });
});

after(async () => {
  await daemon?.cleanup();
  rmSync(home, { recursive: true, force: true });
  rmSync(cordonHome, { recursive: true, force: true });
});

test('a denied command: exit 2, reason on stderr, the structured deny on stdout, the decision in audit', async () => {
  const run = await runHook('claude-code', claudeBash('rm -rf ~/'), daemon.env);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /Cordon blocked/);
  const json = JSON.parse(run.stdout);
  assert.equal(json.hookSpecificOutput.permissionDecision, 'deny');
  assert.match(json.hookSpecificOutput.permissionDecisionReason, /no-rm-home/);
  const client = await daemon.connect();
  try {
    const events = await client.call('events', { types: ['local.deny'], limit: 20 });
    const event = events.find((e) => (e.data as { source?: string }).source === 'hook:claude-code');
    assert.ok(event, 'the deny is in the audit trail');
    const data = event.data as { sessionId: string; cwd: string; action: { command: string } };
    assert.equal(data.sessionId, 'sess-1');
    assert.equal(data.cwd, '/work/p');
    assert.equal(data.action.command, 'rm -rf ~/');
  } finally {
    client.close();
  }
});

test('an allowed command exits 0 silently; Gemini and Cursor get their own deny formats', async () => {
  const ok = await runHook('claude-code', claudeBash('ls -la'), daemon.env);
  assert.deepEqual({ code: ok.code, stdout: ok.stdout }, { code: 0, stdout: '' });
  const gemini = await runHook('gemini-cli', JSON.stringify({ hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'rm -rf ~' } }), daemon.env);
  assert.equal(gemini.code, 2);
  assert.equal(JSON.parse(gemini.stdout).decision, 'block');
  const cursor = await runHook('cursor', JSON.stringify({ hook_event_name: 'beforeShellExecution', command: 'rm -rf ~', cwd: '/w' }), daemon.env);
  assert.equal(cursor.code, 2);
  assert.equal(JSON.parse(cursor.stdout).permission, 'deny');
});

test('malformed stdin with the daemon up in enforce mode: denied', async () => {
  const run = await runHook('codex', '{"tool_name": "Bash", ', daemon.env);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /not valid JSON.*enforce mode/);
});

test('an unknown agent name blocks (exit 2) with a usage message', async () => {
  const run = await runHook('nonesuch', claudeBash('ls'), daemon.env);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /usage/);
});

test('daemon down: enforce denies by itself, monitor allows with a warning', async () => {
  const enforce = homeWithSettings({ mode: 'enforce' });
  const monitor = homeWithSettings({ mode: 'monitor' });
  try {
    const denied = await runHook('claude-code', claudeBash('ls'), testEnv(enforce));
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /daemon gave no answer.*enforce mode/);
    const allowed = await runHook('claude-code', claudeBash('ls'), testEnv(monitor));
    assert.equal(allowed.code, 0);
    assert.match(allowed.stderr, /monitor mode/);
  } finally {
    rmSync(enforce, { recursive: true, force: true });
    rmSync(monitor, { recursive: true, force: true });
  }
});
