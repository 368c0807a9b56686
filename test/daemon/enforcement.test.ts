// The enforcement point end to end: a real daemon, a real curl through its proxy to local
// origins, the decision in the audit trail with the right process attributed, blocks answered
// at once with a 403 naming the audit id, and approvals answered over the control API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Approval } from '../../app/api/approvals.ts';
import type { CordonEvent } from '../../app/api/control.ts';
import { startDaemonProcess, waitFor, type DaemonHandle } from '../helpers/daemonProcess.ts';

const hasCurl = spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0;

let origin: Server;
let askOrigin: Server;
let originPort = 0;
let askPort = 0;
let daemon: DaemonHandle;
let home: string;
let cordonHome: string;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

before(async () => {
  origin = createServer((_req, res) => res.end('hello from origin'));
  askOrigin = createServer((_req, res) => res.end('hello from the asked origin'));
  originPort = await listen(origin);
  askPort = await listen(askOrigin);
  home = mkdtempSync(join(tmpdir(), 'cordon-enf-home-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-enf-'));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', approvalTimeoutSeconds: 5 }));
  writeFileSync(
    join(cordonHome, 'config', 'policy.yaml'),
    [
      'version: 1',
      'rules:',
      '  - id: local-origin',
      '    action: allow',
      '    ips: [127.0.0.1]',
      `    ports: [${originPort}]`,
      '  - id: ask-origin',
      '    action: ask',
      '    ips: [127.0.0.1]',
      `    ports: [${askPort}]`,
      '  - id: no-paste',
      '    action: deny',
      '    hosts: [paste.invalid]',
      'local:',
      '  - id: no-rm-home',
      '    action: deny',
      '    commands: ["rm -rf ~*", "rm -rf /home/*"]',
      '  - id: ask-push',
      '    action: ask',
      '    commands: ["git push --force*"]',
      '  - id: ls-ok',
      '    action: allow',
      '    commands: ["ls*"]',
      '',
    ].join('\n'),
  );
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-enf-${process.pid}` } });
});

after(async () => {
  await daemon?.cleanup();
  origin?.close();
  askOrigin?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(cordonHome, { recursive: true, force: true });
});

async function proxyUrl(): Promise<string> {
  const client = await daemon.connect();
  try {
    const status = await client.call('status');
    assert.ok(status.proxy, 'the proxy is running');
    return status.proxy.url;
  } finally {
    client.close();
  }
}

function curl(proxy: string, url: string): Promise<{ code: number | null; stdout: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '-i', '--max-time', '20', '-x', proxy, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, pid: child.pid ?? -1 }));
  });
}

async function auditEvents(): Promise<CordonEvent[]> {
  const client = await daemon.connect();
  try {
    return [...(await client.call('events', { limit: 200 }))];
  } finally {
    client.close();
  }
}

test('an allowed request reaches the origin and its audit event names the curl process', { skip: !hasCurl && 'curl is not installed' }, async () => {
  const proxy = await proxyUrl();
  const r = await curl(proxy, `http://127.0.0.1:${originPort}/hello`);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^HTTP\/1\.1 200/);
  assert.match(r.stdout, /hello from origin/);
  // Allowed requests are recorded when the exchange ends (queued, one fsync per batch).
  const isHello = (e: CordonEvent): boolean => e.type.startsWith('egress.') && e.summary.includes(`127.0.0.1:${originPort}/hello`);
  await waitFor(async () => (await auditEvents()).some(isHello), 5000);
  const event = (await auditEvents()).find(isHello);
  assert.notEqual(event?.type, 'egress.deny');
  const data = JSON.stringify(event);
  assert.match(data, new RegExp(`"pid":${r.pid}\\b`), `the audit event attributes the request to curl (pid ${r.pid}): ${data}`);
  assert.match(data, /curl/);
});

test('a denied request gets a 403 at once naming Cordon, the rule and the audit id', { skip: !hasCurl && 'curl is not installed' }, async () => {
  const proxy = await proxyUrl();
  const r = await curl(proxy, 'http://paste.invalid/upload');
  assert.match(r.stdout, /^HTTP\/1\.1 403/);
  assert.match(r.stdout, /x-cordon-rule: .*no-paste/i);
  const auditId = /x-cordon-audit-id: (\S+)/i.exec(r.stdout)?.[1];
  assert.ok(auditId, r.stdout);
  const events = await auditEvents();
  assert.ok(events.some((e) => e.id === auditId && e.type === 'egress.deny'), `audit id ${auditId} is recorded as a deny`);
});

test('an ask is parked as an approval; allow-once lets it through, and an unanswered one is denied on timeout', { skip: !hasCurl && 'curl is not installed' }, async () => {
  const proxy = await proxyUrl();
  const client = await daemon.connect();
  try {
    const pending = curl(proxy, `http://127.0.0.1:${askPort}/one`);
    let approval: Approval | undefined;
    await waitFor(async () => {
      approval = (await client.call('approvals', {}))[0];
      return approval !== undefined;
    }, 10_000);
    assert.equal(approval?.subject.kind, 'egress');
    assert.match(approval?.rule ?? '', /ask-origin/);
    await client.call('answerApproval', { id: approval!.id, answer: 'allow-once' });
    const r = await pending;
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /hello from the asked origin/);

    const started = Date.now();
    const timedOut = await curl(proxy, `http://127.0.0.1:${askPort}/two`);
    assert.match(timedOut.stdout, /^HTTP\/1\.1 403/);
    assert.ok(Date.now() - started >= 4000, 'denied by the approval timeout, not at once');
    const history = await client.call('approvals', { all: true });
    assert.ok(history.some((a) => a.status === 'expired'));
  } finally {
    client.close();
  }
});

test('the daemon answers a request with a bad request line with 400 and keeps serving', async () => {
  const proxy = new URL(await proxyUrl());
  const { connect } = await import('node:net');
  const reply = await new Promise<string>((resolve) => {
    const s = connect(Number(proxy.port), proxy.hostname);
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
    s.write('GARBAGE / NOT-HTTP\r\n\r\n');
    setTimeout(() => s.destroy(), 2000);
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  const client = await daemon.connect();
  assert.ok((await client.call('status')).proxy);
  client.close();
});

test('local actions from hooks: deny with a message, allow, and ask answered over the control API; secrets never reach audit', async () => {
  const client = await daemon.connect();
  try {
    const denied = await client.call('localAction', { action: { kind: 'command', command: 'rm -rf ~/' }, agent: 'claude-code', pid: process.pid, source: 'hook:claude-code', sessionId: 's1', cwd: '/work/p' });
    assert.equal(denied.action, 'deny');
    assert.match(denied.message, /Cordon blocked/);
    assert.match(denied.decision.rule, /no-rm-home/);
    const allowed = await client.call('localAction', { action: { kind: 'command', command: 'ls -la' }, agent: 'claude-code', pid: process.pid, source: 'hook:claude-code' });
    assert.equal(allowed.action, 'allow');

    const asked = client.call('localAction', { action: { kind: 'command', command: 'git push --force origin main' }, agent: 'codex', pid: process.pid, source: 'hook:codex' }, 20_000);
    let approval: Approval | undefined;
    await waitFor(async () => {
      approval = (await client.call('approvals', {})).find((a) => a.subject.kind === 'command');
      return approval !== undefined;
    }, 10_000);
    await client.call('answerApproval', { id: approval!.id, answer: 'deny' });
    assert.equal((await asked).action, 'deny');

    const secret = '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';
    await client.call('localAction', { action: { kind: 'command', command: `ls --token=${secret}` }, agent: 'claude-code', pid: process.pid, source: 'hook:claude-code' });
    const events = await client.call('events', { limit: 50 });
    assert.ok(events.some((e) => e.type === 'local.deny' && e.id === denied.auditId));
    assert.ok(!JSON.stringify(events).includes(secret), 'the command is recorded with its secret redacted');

    // A malformed request from a buggy or hostile local client is refused, and the daemon stays up.
    await assert.rejects(client.call('localAction', JSON.parse('{"action":{"kind":"shell"},"agent":"x","source":"y"}')), /action.kind/);
    const policy = await client.call('policy', {});
    assert.ok(policy.view.rules.some((r) => r.rule.id === 'no-paste' && r.layer === 'user'));
    const settingsReport = await client.call('settings', {});
    assert.equal(settingsReport.effective.mode, 'enforce');
    assert.ok(Array.isArray(await client.call('keys', {})));
  } finally {
    client.close();
  }
});

test('pause drops to monitor mode until resumed; the pause and resume are recorded', async () => {
  const client = await daemon.connect();
  try {
    const { until } = await client.call('pause', { minutes: 5 });
    assert.ok(Date.parse(until) > Date.now());
    const paused = await client.call('status', {});
    assert.equal(paused.mode, 'monitor');
    assert.equal(paused.proxy?.mode, 'monitor');
    assert.equal(paused.paused?.until, until);
    await client.call('resume', {});
    const resumed = await client.call('status', {});
    assert.equal(resumed.mode, 'enforce');
    assert.equal(resumed.paused, null);
    const types = (await client.call('events', { limit: 20 })).map((e) => e.type);
    assert.ok(types.includes('protection.paused') && types.includes('protection.resumed'));
    await assert.rejects(client.call('pause', { minutes: 0 }), /minutes/);
  } finally {
    client.close();
  }
});
