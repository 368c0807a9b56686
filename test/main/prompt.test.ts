import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_PROMPT, NOTIFY_COALESCE_MS, promptReduce, secondsLeft, type PromptContext, type PromptEffect, type PromptState } from '../../main/prompt.ts';
import { approval, event } from './fixtures.ts';

const T0 = Date.parse('2026-01-01T00:00:05.000Z');
const hidden: PromptContext = { now: T0, windowVisible: false, windowFocused: false };
const kinds = (effects: readonly PromptEffect[]): string[] => effects.map((e) => e.type);

test('a requested approval shows the prompt (focused on it) and raises one notification when not focused', () => {
  const { state, effects } = promptReduce(INITIAL_PROMPT, { type: 'event', event: event('approval.requested', approval('a1')) }, hidden);
  assert.deepEqual(state.pending.map((a) => a.id), ['a1']);
  assert.deepEqual(kinds(effects), ['show', 'notify']);
  const show = effects[0];
  assert.ok(show?.type === 'show' && show.focusId === 'a1');
  const note = effects[1];
  assert.ok(note?.type === 'notify' && /Claude Code wants to connect to api\.example\.com:443/.test(note.body) && /Denied in 55 s/.test(note.body));
});

test('no notification while the prompt window is focused', () => {
  const ctx = { now: T0, windowVisible: true, windowFocused: true };
  const { effects } = promptReduce(INITIAL_PROMPT, { type: 'event', event: event('approval.requested', approval('a1')) }, ctx);
  assert.deepEqual(kinds(effects), ['update']);
});

test('a burst is coalesced: one notification, then one follow-up summarising the rest after the window', () => {
  let state: PromptState = INITIAL_PROMPT;
  const notes: PromptEffect[] = [];
  for (let i = 0; i < 5; i++) {
    const r = promptReduce(state, { type: 'event', event: event('approval.requested', approval(`b${i}`, { createdAt: `2026-01-01T00:00:0${i}.000Z` })) }, { ...hidden, now: T0 + i * 100, windowVisible: i > 0 });
    state = r.state;
    notes.push(...r.effects.filter((e) => e.type === 'notify'));
  }
  assert.equal(notes.length, 1);
  assert.equal(state.unnotified, 4);
  const later = promptReduce(state, { type: 'tick' }, { now: T0 + NOTIFY_COALESCE_MS + 500, windowVisible: true, windowFocused: false });
  const follow = later.effects.filter((e) => e.type === 'notify');
  assert.equal(follow.length, 1);
  assert.ok(follow[0]?.type === 'notify' && /4 new requests are waiting \(5 in all\)/.test(follow[0].body));
  assert.equal(later.state.unnotified, 0);
  assert.deepEqual(later.state.pending.map((a) => a.id), ['b0', 'b1', 'b2', 'b3', 'b4']);
});

test('answered and expired approvals leave the queue; an empty queue hides the window', () => {
  const start = promptReduce(INITIAL_PROMPT, { type: 'snapshot', approvals: [approval('a2', { createdAt: '2026-01-01T00:00:02.000Z' }), approval('a1'), approval('old', { status: 'allowed' })] }, hidden).state;
  assert.deepEqual(start.pending.map((a) => a.id), ['a1', 'a2']);
  const answered = promptReduce(start, { type: 'event', event: event('approval.answered', { ...approval('a1'), status: 'allowed' }) }, { ...hidden, windowVisible: true });
  assert.deepEqual(answered.state.pending.map((a) => a.id), ['a2']);
  const expired = promptReduce(answered.state, { type: 'tick' }, { now: Date.parse('2026-01-01T00:01:00.000Z'), windowVisible: true, windowFocused: true });
  assert.equal(expired.state.pending.length, 0);
  assert.deepEqual(kinds(expired.effects), ['hide']);
});

test('events that are not approvals, or carry malformed data, change nothing', () => {
  const start = promptReduce(INITIAL_PROMPT, { type: 'snapshot', approvals: [approval('a1')] }, hidden).state;
  for (const e of [event('egress.deny', approval('x')), event('approval.requested', null), event('approval.requested', { id: 5 }), event('approval.requested', 'text')]) {
    const r = promptReduce(start, { type: 'event', event: e }, hidden);
    assert.equal(r.state, start);
    assert.deepEqual(r.effects, []);
  }
});

test('secondsLeft counts down to the default action and never goes negative', () => {
  const a = approval('a1');
  assert.equal(secondsLeft(a, Date.parse('2026-01-01T00:00:30.000Z')), 30);
  assert.equal(secondsLeft(a, Date.parse('2026-01-01T00:02:00.000Z')), 0);
  assert.equal(secondsLeft({ ...a, expiresAt: 'garbage' }, T0), 0);
});
