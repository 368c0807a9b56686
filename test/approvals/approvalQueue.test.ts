import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Approval } from '../../app/api/approvals.ts';
import type { Principal } from '../../app/api/enforcement.ts';
import { createApprovalQueue, type ApprovalQueueOptions } from '../../app/approvals/approvalQueue.ts';

function principal(agentId: string | null, pid = 100): Principal {
  return {
    attributed: true,
    chain: [{ pid, ppid: 1, exe: '/usr/bin/curl', argv: ['curl'], uid: 1000, user: 'dev', cwd: '/work/project', startTimeMs: 0 }],
    agent: agentId ? { id: agentId, kind: agentId, name: agentId, pid, exe: '/usr/bin/curl' } : null,
  };
}

function fakeClock() {
  let t = 1_000_000;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: t + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
    advance(ms: number) {
      t += ms;
      for (const timer of timers) if (!timer.cancelled && timer.at <= t) {
        timer.cancelled = true;
        timer.fn();
      }
    },
  };
}

function queue(extra: Partial<ApprovalQueueOptions> = {}) {
  const clock = fakeClock();
  const changes: Approval[] = [];
  let n = 0;
  const q = createApprovalQueue({ timeoutMs: 30_000, defaultAction: 'deny', now: clock.now, setTimer: clock.setTimer, newId: () => `a${++n}`, onChange: (a) => changes.push(a), ...extra });
  return { q, clock, changes };
}

const egress = (host: string) => ({ kind: 'egress' as const, host, port: 443 });
const reasons = [{ code: 'first-seen-destination', message: 'first time claude talks to x' }];

test('allow once settles the waiting request with allow and records who answered', async () => {
  const { q } = queue();
  const pending = q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'user:ask-new' });
  const [approval] = q.pending();
  assert.equal(approval?.status, 'pending');
  assert.equal(approval?.project, '/work/project');
  q.answer(approval!.id, 'allow-once');
  assert.deepEqual(await pending, { action: 'allow', approvalId: 'a1', by: 'user', answer: 'allow-once' });
  assert.equal(q.pending().length, 0);
  assert.equal(q.history()[0]?.status, 'allowed');
});

test('an unanswered approval times out to the default action (deny)', async () => {
  const { q, clock } = queue();
  const pending = q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'r' });
  clock.advance(29_999);
  assert.equal(q.pending().length, 1);
  clock.advance(1);
  assert.deepEqual(await pending, { action: 'deny', approvalId: 'a1', by: 'timeout', answer: 'timeout' });
  assert.equal(q.history()[0]?.status, 'expired');
});

test('a burst of similar requests coalesces into one approval; one answer settles them all', async () => {
  const { q } = queue();
  const burst = Array.from({ length: 5 }, () => q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'r' }));
  const other = q.request({ principal: principal('codex'), subject: egress('x.example'), reasons, rule: 'r' });
  assert.equal(q.pending().length, 2);
  assert.equal(q.pending()[0]?.count, 5);
  q.answer('a1', 'deny');
  for (const outcome of await Promise.all(burst)) assert.equal(outcome.action, 'deny');
  q.answer('a2', 'allow-once');
  assert.equal((await other).action, 'allow');
});

test('the prompt budget refuses to ask past the per-agent rate, applying the default at once', async () => {
  const { q, clock } = queue({ maxPerAgentPerMinute: 3 });
  const asked = [0, 1, 2].map((i) => q.request({ principal: principal('claude'), subject: egress(`h${i}.example`), reasons, rule: 'r' }));
  const refused = await q.request({ principal: principal('claude'), subject: egress('h3.example'), reasons, rule: 'r' });
  assert.deepEqual(refused, { action: 'deny', approvalId: 'a4', by: 'budget', answer: 'budget' });
  assert.equal(q.history()[0]?.status, 'refused');
  // Another agent still gets asked; after a minute the first agent may be asked again.
  void q.request({ principal: principal('codex'), subject: egress('h3.example'), reasons, rule: 'r' });
  assert.equal(q.pending().length, 4);
  q.close();
  await Promise.all(asked);
  clock.advance(61_000);
  void q.request({ principal: principal('claude'), subject: egress('h9.example'), reasons, rule: 'r' });
  assert.equal(q.pending().length, 1);
  q.close();
});

test('the prompt budget caps open approvals across agents', async () => {
  const { q } = queue({ maxPending: 2 });
  void q.request({ principal: principal('a'), subject: egress('1.example'), reasons, rule: 'r' });
  void q.request({ principal: principal('b'), subject: egress('2.example'), reasons, rule: 'r' });
  assert.equal((await q.request({ principal: principal('c'), subject: egress('3.example'), reasons, rule: 'r' })).by, 'budget');
  q.close();
});

test('always answers are handed to onAlways to become user rules', async () => {
  const always: [string, string][] = [];
  const { q } = queue({ onAlways: (a, answer) => always.push([a.agent?.id ?? '', answer]) });
  const p = q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'r' });
  q.answer('a1', 'deny-always');
  assert.equal((await p).action, 'deny');
  assert.deepEqual(always, [['claude', 'deny-always']]);
});

test('answering an unknown or settled approval is an error, not a crash', async () => {
  const { q } = queue();
  assert.throws(() => q.answer('nope', 'allow-once'), /no approval nope/);
  const p = q.request({ principal: principal(null), subject: { kind: 'command', command: 'rm -rf ~', cwd: '/' }, reasons, rule: 'r' });
  q.answer('a1', 'deny');
  await p;
  assert.throws(() => q.answer('a1', 'allow-once'), /already denied/);
});

test('every creation, coalescing and settlement is reported to onChange', async () => {
  const { q, changes } = queue();
  const p1 = q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'r' });
  const p2 = q.request({ principal: principal('claude'), subject: egress('x.example'), reasons, rule: 'r' });
  q.answer('a1', 'allow-once');
  await Promise.all([p1, p2]);
  assert.deepEqual(changes.map((a) => [a.status, a.count]), [['pending', 1], ['pending', 2], ['allowed', 2]]);
});
