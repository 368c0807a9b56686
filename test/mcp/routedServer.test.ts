// End to end: `cordon agents protect cursor --mcp` (the real CLI) rewrites ~/.cursor/mcp.json; the
// official MCP SDK client then starts the rewritten entry exactly as written (command + args, no
// secret in its environment) for @modelcontextprotocol/server-everything, through the gateway and
// a real daemon: tools list, `echo` works, and `get-env` shows the server received the secret from
// the keychain. Without the credential the wrap refuses to start the server, naming why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CordonEvent } from '../../app/api/control.ts';
import { parseJsonc } from '../../app/config/jsonc.ts';
import { createCredentialStore } from '../../app/identity/credentials.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { CORDON_BIN, startDaemonProcess, testEnv, type DaemonHandle } from '../helpers/daemonProcess.ts';
import { EVERYTHING_BIN, writeCordonConfig } from './helpers.ts';

const SECRET = `sk-proj-${randomBytes(16).toString('hex')}`;
const CREDENTIAL = 'mcp.cursor.everything.EVERYTHING_API_TOKEN';
const KEYCHAIN = `cordon-test-route-${process.pid}`;

let daemon: DaemonHandle;
let home: string;
let cordonHome: string;
let env: NodeJS.ProcessEnv;
let mcpJson: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'cordon-route-home-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-route-'));
  writeCordonConfig(cordonHome, { mode: 'enforce' }, ['version: 1', 'defaults: {local: allow}', 'local:', '  - {id: mcp-ok, action: allow, mcp: [{server: "*"}]}']);
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: KEYCHAIN } });
  env = testEnv(cordonHome, { CORDON_KEYCHAIN_SERVICE: KEYCHAIN });
  mcpJson = join(home, '.cursor', 'mcp.json');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  const server = { command: process.execPath, args: [EVERYTHING_BIN, 'stdio'], env: { EVERYTHING_API_TOKEN: SECRET, EVERYTHING_MODE: 'demo' } };
  writeFileSync(mcpJson, `{\n  // servers for the end-to-end test\n  "mcpServers": {\n    "everything": ${JSON.stringify(server)}\n  }\n}\n`);
});

after(async () => {
  const store = createCredentialStore(createOsKeyStore({ service: KEYCHAIN }), cordonPaths(env).dataDir);
  for (const c of await store.list()) await store.remove(c.name);
  await daemon?.cleanup();
  for (const dir of [home, cordonHome]) rmSync(dir, { recursive: true, force: true });
});

function cordon(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CORDON_BIN, ...args], { env, encoding: 'utf8', input: '' });
}

async function auditEvents(): Promise<CordonEvent[]> {
  const client = await daemon.connect();
  try {
    return [...(await client.call('events', { limit: 500 }))];
  } finally {
    client.close();
  }
}

test('the SDK client starts the rewritten entry: the call goes through the gateway and the server gets the secret from the keychain', async () => {
  const original = readFileSync(mcpJson, 'utf8');
  const protectRun = cordon(['agents', 'protect', 'cursor', '--mcp', '--scope', 'user', '--home', home, '--json']);
  assert.equal(protectRun.status, 0, protectRun.stderr + protectRun.stdout);
  assert.match(protectRun.stdout, /moved the literal secret in EVERYTHING_API_TOKEN/);

  const text = readFileSync(mcpJson, 'utf8');
  assert.ok(!text.includes(SECRET), 'the secret is gone from mcp.json');
  assert.ok(text.includes('// servers for the end-to-end test'), 'the comment is kept');
  const parsed = parseJsonc(text);
  assert.ok(parsed.ok);
  const entry = (parsed.value as { mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> }).mcpServers.everything!;
  assert.equal(entry.command, process.execPath);
  assert.deepEqual(entry.args.slice(1), ['mcp', 'wrap', '--server', 'everything', '--agent', 'cursor', '--secret-env', `EVERYTHING_API_TOKEN=${CREDENTIAL}`, '--', process.execPath, EVERYTHING_BIN, 'stdio']);
  assert.deepEqual(entry.env, { EVERYTHING_MODE: 'demo' });

  // Launched the way Cursor would: the entry's command, args and env exactly as written.
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...(env as Record<string, string>), ...entry.env }, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'cordon-route-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('echo') && names.includes('get-env'), names.join(', '));
    const echoed = await client.callTool({ name: 'echo', arguments: { message: 'routed by protect --mcp' } });
    assert.match(JSON.stringify(echoed.content), /routed by protect --mcp/);
    const shown = await client.callTool({ name: 'get-env', arguments: {} });
    const childEnv = JSON.parse((shown.content as { type: string; text: string }[])[0]?.text ?? '{}') as Record<string, string>;
    assert.equal(childEnv.EVERYTHING_API_TOKEN, SECRET, 'the server received the secret in its environment');
    assert.equal(childEnv.EVERYTHING_MODE, 'demo');
  } finally {
    await client.close();
  }
  assert.ok(!stderr.includes(SECRET), 'the gateway never logs the secret');

  const events = await auditEvents();
  assert.ok(events.some((e) => e.type === 'local.allow' && e.summary.includes('everything/echo')), 'the call went through the gateway and is in audit');
  assert.ok(events.some((e) => e.type === 'local.allow' && e.summary.includes('everything/get-env')));
  assert.ok(!JSON.stringify(events).includes(SECRET), 'the secret never reaches the audit trail');

  // Unprotect: the file comes back byte for byte, the credential is deleted.
  const undo = cordon(['agents', 'unprotect', 'cursor', '--scope', 'user', '--home', home]);
  assert.equal(undo.status, 0, undo.stderr + undo.stdout);
  assert.equal(readFileSync(mcpJson, 'utf8'), original);
  const listed = cordon(['credentials', 'list', '--json']);
  assert.deepEqual(JSON.parse(listed.stdout), []);

  // The rewritten entry without its credential: the wrap exits non-zero before starting the server.
  const run = spawnSync(entry.command, entry.args, { env, encoding: 'utf8', input: '', timeout: 20_000 });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /cannot start MCP server 'everything': the secret for EVERYTHING_API_TOKEN \(credential 'mcp\.cursor\.everything\.EVERYTHING_API_TOKEN'\) is not in the OS keychain/);
});

test('--secret-env is refused when malformed, and a credential stored for another server is never handed out', async () => {
  const bad = cordon(['mcp', 'wrap', '--server', 'x', '--secret-env', 'NOT A VAR', '--', process.execPath, '-e', '0']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--secret-env takes VAR=CREDENTIAL/);

  const store = createCredentialStore(createOsKeyStore({ service: KEYCHAIN }), cordonPaths(env).dataDir);
  await store.setLocal('mcp.cursor.github.TOKEN', 'tok-for-github-only-0123456789', 'github');
  const other = cordon(['mcp', 'wrap', '--server', 'evil', '--secret-env', 'TOKEN=mcp.cursor.github.TOKEN', '--', process.execPath, '-e', 'console.log(process.env.TOKEN)']);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /is not in the OS keychain for this server/);
  assert.ok(!other.stdout.includes('tok-for-github-only'));
  await store.remove('mcp.cursor.github.TOKEN');
});
