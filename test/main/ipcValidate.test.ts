import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UI_METHODS } from '../../app/api/uiClient.ts';
import { INVOKE_CHANNELS } from '../../main/ipc/contract.ts';
import { dispatchInvoke, toIpcError, type InvokeHandlers, type Refusal } from '../../main/ipc/dispatch.ts';
import { checkCall, checkInvoke, checkSender, isPlainRecord } from '../../main/ipc/validate.ts';

const ROOT = 'file:///opt/Cordon/resources/app.asar/dist/renderer/';
const GOOD = { url: `${ROOT}index.html#/prompt/a1`, isMainFrame: true, id: 7 };

test('the sender must be the main frame of a page inside the bundled renderer', () => {
  assert.equal(checkSender(GOOD, ROOT).ok, true);
  const refused: [string, boolean][] = [
    [`${ROOT}index.html`, false], // subframe
    ['https://evil.example/index.html', true],
    ['http://127.0.0.1:5173/index.html', true],
    ['file:///opt/Cordon/resources/app.asar/dist/renderer-evil/index.html', true],
    ['file:///opt/Cordon/resources/app.asar/dist/index.html', true],
    ['file:///tmp/download/index.html', true],
    ['file://server/opt/Cordon/resources/app.asar/dist/renderer/index.html', true],
    ['data:text/html,<script>1</script>', true],
    ['about:blank', true],
    ['', true],
    ['not a url', true],
  ];
  for (const [url, isMainFrame] of refused) assert.equal(checkSender({ url, isMainFrame }, ROOT).ok, false, url);
  // Dot segments are normalised by URL parsing before the prefix check.
  assert.equal(checkSender({ url: `${ROOT}../../../../tmp/x.html`, isMainFrame: true }, ROOT).ok, false);
});

test('every UI method is accepted with valid params and the shutdown/localAction methods are not', () => {
  for (const method of UI_METHODS) {
    const params = method === 'answerApproval' ? { id: 'a1', answer: 'deny' } : method === 'pause' ? { minutes: 15 } : {};
    assert.equal(checkCall(method, params).ok, true, method);
  }
  for (const method of ['shutdown', 'localAction', 'subscribe', 'toString', '__proto__', 42, null]) assert.equal(checkCall(method, {}).ok, false, String(method));
});

test('argument shapes are checked per method', () => {
  const bad: [string, unknown][] = [
    ['status', { extra: 1 }],
    ['status', []],
    ['status', 'x'],
    ['events', { limit: 0 }],
    ['events', { limit: 100_000 }],
    ['events', { limit: 1.5 }],
    ['events', { afterSeq: -1 }],
    ['events', { since: 'yesterday' }],
    ['events', { types: 'egress.deny' }],
    ['events', { types: ['ok', 7] }],
    ['events', { types: Array.from({ length: 33 }, () => 'a') }],
    ['events', { types: ['a; drop table'] }],
    ['approvals', { all: 'yes' }],
    ['answerApproval', undefined],
    ['pause', {}],
    ['pause', { minutes: 0 }],
    ['pause', { minutes: 1441 }],
    ['pause', { minutes: '15' }],
    ['resume', { minutes: 1 }],
    ['answerApproval', { id: 'a1' }],
    ['answerApproval', { id: 'a1', answer: 'allow-forever' }],
    ['answerApproval', { id: '../../etc', answer: 'deny' }],
    ['answerApproval', { id: 'x'.repeat(129), answer: 'deny' }],
    ['answerApproval', { id: 'a1', answer: 'deny', extra: true }],
  ];
  for (const [method, params] of bad) assert.equal(checkCall(method, params).ok, false, `${method} ${JSON.stringify(params)}`);
  const good = checkCall('events', { afterSeq: 3, since: '2026-01-01T00:00:00Z', types: ['egress.deny', 'approval.*'], limit: 50 });
  assert.deepEqual(good, { ok: true, value: ['events', { afterSeq: 3, since: '2026-01-01T00:00:00Z', types: ['egress.deny', 'approval.*'], limit: 50 }] });
});

test('prototype-pollution keys and non-plain objects are refused', () => {
  const polluted = JSON.parse('{"__proto__": {"admin": true}, "id": "a1", "answer": "deny"}') as unknown;
  assert.equal(checkCall('answerApproval', polluted).ok, false);
  assert.equal(checkCall('answerApproval', { constructor: { prototype: {} }, id: 'a1', answer: 'deny' }).ok, false);
  assert.equal(checkCall('approvals', { prototype: 1 }).ok, false);
  assert.equal(isPlainRecord(new Date()), false);
  assert.equal(isPlainRecord(Object.create({ inherited: 1 })), false);
  assert.equal(isPlainRecord({ [Symbol('s')]: 1 }), false);
  assert.equal(isPlainRecord(Object.create(null)), true);
  assert.equal(({} as Record<string, unknown>).admin, undefined);
});

test('unknown channels and wrong argument counts are refused', () => {
  assert.equal(checkInvoke('cordon:shutdown', []).ok, false);
  assert.equal(checkInvoke('cordon:call', []).ok, false);
  assert.equal(checkInvoke('cordon:call', ['status', {}, 'extra']).ok, false);
  assert.equal(checkInvoke('cordon:subscribe', ['x']).ok, false);
  assert.equal(checkInvoke('cordon:prompt:answer', [{ id: 'a1', answer: 'deny' }, 1]).ok, false);
  for (const channel of INVOKE_CHANNELS) assert.equal(typeof checkInvoke(channel, []).ok, 'boolean');
});

function recordingHandlers(): { handlers: InvokeHandlers; calls: unknown[] } {
  const calls: unknown[] = [];
  const handlers: InvokeHandlers = {
    call: async (args) => {
      calls.push(['call', args]);
      if (args[0] === 'keys') throw Object.assign(new Error('keychain locked'), { code: 'ERR_KEYCHAIN_UNAVAILABLE' });
      if (args[0] === 'rescan') throw new TypeError('secret=hunter2 exploded');
      return { ok: 'value' };
    },
    subscribe: (id) => void calls.push(['subscribe', id]),
    promptAnswer: async (a) => void calls.push(['answer', a]),
    promptHide: () => void calls.push(['hide']),
    openConsole: () => void calls.push(['open']),
  };
  return { handlers, calls };
}

test('dispatch runs handlers only for trusted senders and valid arguments, and never throws', async () => {
  const { handlers, calls } = recordingHandlers();
  const refusals: Refusal[] = [];
  const onRefuse = (r: Refusal): void => void refusals.push(r);
  assert.deepEqual(await dispatchInvoke('cordon:call', GOOD, ['status'], ROOT, handlers, onRefuse), { ok: true, value: { ok: 'value' } });
  assert.deepEqual(await dispatchInvoke('cordon:subscribe', GOOD, [], ROOT, handlers, onRefuse), { ok: true, value: { subscribed: true } });
  assert.deepEqual(await dispatchInvoke('cordon:prompt:answer', GOOD, [{ id: 'a1', answer: 'allow-once' }], ROOT, handlers, onRefuse), { ok: true, value: { answered: true } });
  assert.deepEqual(calls, [['call', ['status', {}]], ['subscribe', 7], ['answer', { id: 'a1', answer: 'allow-once' }]]);

  const sub = await dispatchInvoke('cordon:call', { ...GOOD, isMainFrame: false }, ['status'], ROOT, handlers, onRefuse);
  assert.equal(sub.ok, false);
  const bad = await dispatchInvoke('cordon:call', GOOD, ['answerApproval', { id: 'a1', answer: 'maybe' }], ROOT, handlers, onRefuse);
  assert.ok(!bad.ok && bad.error.code === 'ERR_BAD_REQUEST');
  assert.equal(calls.length, 3);
  assert.equal(refusals.length, 2);

  const known = await dispatchInvoke('cordon:call', GOOD, ['keys'], ROOT, handlers, onRefuse);
  assert.deepEqual(known, { ok: false, error: { code: 'ERR_KEYCHAIN_UNAVAILABLE', message: 'keychain locked' } });
  const bug = await dispatchInvoke('cordon:call', GOOD, ['rescan'], ROOT, handlers, onRefuse);
  assert.ok(!bug.ok && bug.error.code === 'ERR_INTERNAL' && !bug.error.message.includes('hunter2'));
});

test('toIpcError maps only known codes through', () => {
  assert.equal(toIpcError({ code: 'ERR_NOT_FOUND', message: 'no such approval' }).code, 'ERR_NOT_FOUND');
  assert.equal(toIpcError({ code: 'EACCES', message: '/home/x' }).code, 'ERR_INTERNAL');
  assert.equal(toIpcError('boom').code, 'ERR_INTERNAL');
});
