import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressRequest, Principal } from '../../app/api/enforcement.ts';
import { createBaseline } from '../../app/anomaly/baseline.ts';
import { createAnomalyDetector } from '../../app/anomaly/detector.ts';
import { hostShapeFlags, isHighEntropyLabel } from '../../app/anomaly/hostShapes.ts';
import { scanForSecrets } from '../../app/anomaly/secretScan.ts';

const claude: Principal = {
  attributed: true,
  chain: [{ pid: 10, ppid: 1, exe: '/usr/bin/node', argv: ['node', 'claude'], uid: 1000, user: 'dev', cwd: '/p', startTimeMs: 0 }],
  agent: { id: 'agent_claude', kind: 'claude-code', name: 'Claude Code', pid: 10, exe: '/usr/bin/node' },
};
const req = (host: string, port = 443, path?: string): EgressRequest => ({ kind: path ? 'https' : 'connect', host, port, ...(path ? { path, method: 'GET' } : {}) });
const codes = (flags: readonly { code: string }[]) => flags.map((f) => f.code).sort();

for (const [host, path, expected] of [
  ['api.anthropic.com', undefined, []],
  ['registry.npmjs.org', undefined, []],
  ['203.0.113.7', undefined, ['ip-literal']],
  ['127.0.0.1', undefined, []],
  ['[::1]', undefined, []],
  ['[2001:db8::1]', undefined, ['ip-literal']],
  ['xn--pypal-4ve.com', undefined, ['punycode-host']],
  ['a9f3kq2x7m1z8w4v6b0n5c3d.t.example.com', undefined, ['high-entropy-host']],
  ['pastebin.com', undefined, ['paste-service']],
  ['eu.webhook.site', undefined, ['webhook-service']],
  ['discord.com', '/api/webhooks/123/abc', ['webhook-service']],
  ['discord.com', '/channels/1', []],
  ['abcd-1234.ngrok-free.app', undefined, ['tunnel-service']],
  ['transfer.sh', undefined, ['file-drop-service']],
  ['camo.githubusercontent.com', '/' + 'a1B2'.repeat(30), ['image-proxy-abuse']],
  ['camo.githubusercontent.com', '/abc/def.png', []],
] as const) {
  test(`destination shape: ${host}${path ?? ''} -> ${expected.join(', ') || 'no flag'}`, () => {
    assert.deepEqual(codes(hostShapeFlags(host, path)), [...expected].sort());
  });
}

test('high-entropy check ignores ordinary long labels', () => {
  assert.equal(isHighEntropyLabel('storage-prod-eastus-blob'), false);
  assert.equal(isHighEntropyLabel('a3f9c2e1b7d4086f5e2c9a1b3d7f0e4c'), true);
  assert.equal(isHighEntropyLabel('mfrggzdfmztwq2lknnwg23tpobyxe43u'), true);
});

test('secrets leaving in URL, headers or body are flagged by secretlint rules, and values never appear', async () => {
  const token = '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';
  const slack = 'xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx';
  const flags = await scanForSecrets({
    url: `https://x.example/collect?t=${token}`,
    headers: { 'x-note': slack, authorization: `token ${token}` },
    bodySample: `{"key":"${token}"}`,
  });
  assert.deepEqual(codes(flags), ['secret-in-body', 'secret-in-header', 'secret-in-url']);
  const text = JSON.stringify(flags);
  assert.ok(!text.includes(token) && !text.includes(slack), text);
  assert.match(text, /GITHUB_TOKEN/);
});

test('short secrets the cheap pre-check must not skip: a password in URL userinfo is still found', async () => {
  const flags = await scanForSecrets({ url: 'https://admin:hunter2@db.example.com/' });
  assert.deepEqual(codes(flags), ['secret-in-url']);
  assert.ok(!JSON.stringify(flags).includes('hunter2'));
});

test('a credential in Authorization to its own upstream is not "leaving"; clean requests raise nothing', async () => {
  const flags = await scanForSecrets({ url: 'https://api.github.com/user', headers: { authorization: 'token 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', accept: 'application/json' } });
  assert.deepEqual(flags, []);
});

test('first-seen destination is flagged until the baseline has it; learning covers new agents', async () => {
  let t = 1_000_000;
  const detector = createAnomalyDetector({ baseline: createBaseline(null), now: () => t, learningMs: 3600_000 });
  const first = await detector.assess(claude, req('api.example.com'));
  assert.deepEqual(codes(first.flags), ['first-seen-destination']);
  assert.equal(first.learning, true);
  detector.observe(claude, req('api.example.com'), 100);
  const again = await detector.assess(claude, req('api.example.com'));
  assert.deepEqual(again.flags, []);
  t += 3600_001;
  assert.equal((await detector.assess(claude, req('api.example.com'))).learning, false);
  assert.match((await detector.assess(claude, req('new.example.com'))).flags[0]?.message ?? '', /Claude Code has never connected to new\.example\.com:443/);
});

test('an upload spike against the learned per-minute average is flagged with the figures', async () => {
  let t = 0;
  const detector = createAnomalyDetector({ baseline: createBaseline(null), now: () => t, uploadSpike: { factor: 10, minBytes: 1024 } });
  for (let minute = 0; minute < 10; minute++) {
    detector.observe(claude, req('api.example.com'), 1000);
    t += 60_000;
  }
  assert.deepEqual((await detector.assess(claude, req('api.example.com'))).flags, []);
  detector.observe(claude, req('api.example.com'), 50_000);
  const spike = await detector.assess(claude, req('api.example.com'));
  assert.deepEqual(codes(spike.flags), ['upload-spike']);
  assert.match(spike.flags[0]?.message ?? '', /over 10x its usual/);
});

test('the baseline survives a restart through its file, and a damaged file starts fresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-baseline-'));
  try {
    const file = join(dir, 'baseline.json');
    const a = createBaseline(file);
    a.observe('agent_claude', 'api.example.com:443', 10, 1000);
    a.save();
    assert.equal(createBaseline(file).hasSeen('agent_claude', 'api.example.com:443'), true);
    writeFileSync(file, '{not json');
    assert.equal(createBaseline(file).hasSeen('agent_claude', 'api.example.com:443'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
