import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_TRAY, enrollmentOf, trayPresentation, trayReduce, trayState, type TrayInput, type TrayModel } from '../../main/tray/stateMachine.ts';
import { event, status } from './fixtures.ts';

const NOW = 1_000_000;

function run(inputs: readonly TrayInput[], start: TrayModel = INITIAL_TRAY): TrayModel {
  return inputs.reduce((model, input) => trayReduce(model, input).model, start);
}

test('the tray starts as daemon-down until a status arrives', () => {
  assert.equal(trayState(INITIAL_TRAY, NOW), 'daemon-down');
});

test('status mode maps to protected (enforce) and learning (monitor)', () => {
  assert.equal(trayState(run([{ type: 'status', status: status({ mode: 'enforce' }) }]), NOW), 'protected');
  assert.equal(trayState(run([{ type: 'status', status: status({ mode: 'monitor' }) }]), NOW), 'learning');
});

test('pending approvals from status and events give needs-attention, answered ones clear it', () => {
  const withPending = run([{ type: 'status', status: status({ pending: 2 }) }]);
  assert.equal(trayState(withPending, NOW), 'needs-attention');
  const requested = run([{ type: 'status', status: status() }, { type: 'event', event: event('approval.requested') }]);
  assert.equal(requested.pendingApprovals, 1);
  assert.equal(trayState(requested, NOW), 'needs-attention');
  const answered = run([{ type: 'event', event: event('approval.answered') }], requested);
  assert.equal(trayState(answered, NOW), 'protected');
  // Never negative, even when answers outnumber what the tray saw.
  assert.equal(run([{ type: 'event', event: event('approval.answered') }], answered).pendingApprovals, 0);
});

test('pause shows paused until its time passes, then the tick resumes and asks for a refresh', () => {
  const paused = run([{ type: 'status', status: status() }, { type: 'paused', until: NOW + 60_000 }]);
  assert.equal(trayState(paused, NOW), 'paused');
  assert.match(trayPresentation(paused, NOW).statusLine, /1 min left/);
  const early = trayReduce(paused, { type: 'tick', now: NOW + 30_000 });
  assert.equal(early.refresh, false);
  assert.equal(trayState(early.model, NOW + 30_000), 'paused');
  const later = trayReduce(paused, { type: 'tick', now: NOW + 60_000 });
  assert.equal(later.refresh, true);
  assert.equal(later.model.pausedUntil, null);
  assert.equal(trayState(later.model, NOW + 60_000), 'protected');
});

test('precedence: daemon-down > needs-attention > paused > not-enrolled > learning', () => {
  const base = run([{ type: 'status', status: status({ mode: 'monitor', pending: 1 }) }, { type: 'paused', until: NOW + 60_000 }, { type: 'enrollment', enrollment: 'not-enrolled' }]);
  assert.equal(trayState(base, NOW), 'needs-attention');
  const down = run([{ type: 'daemon-down', reason: 'socket closed' }], base);
  assert.equal(trayState(down, NOW), 'daemon-down');
  assert.match(trayPresentation(down, NOW).statusLine, /socket closed/);
  const noPending = { ...base, pendingApprovals: 0 };
  assert.equal(trayState(noPending, NOW), 'paused');
  assert.equal(trayState({ ...noPending, pausedUntil: null }, NOW), 'not-enrolled');
  assert.equal(trayState({ ...noPending, pausedUntil: null, enrollment: 'standalone' }, NOW), 'learning');
});

test('daemon.stopping takes the tray down; settings.changed asks for a refresh; other events change nothing', () => {
  const up = run([{ type: 'status', status: status() }]);
  assert.equal(trayState(trayReduce(up, { type: 'event', event: event('daemon.stopping') }).model, NOW), 'daemon-down');
  const changed = trayReduce(up, { type: 'event', event: event('settings.changed') });
  assert.equal(changed.refresh, true);
  const other = trayReduce(up, { type: 'event', event: event('egress.allow') });
  assert.equal(other.refresh, false);
  assert.equal(other.model, up);
});

test('each state has its own icon', () => {
  const models: TrayModel[] = [
    INITIAL_TRAY,
    run([{ type: 'status', status: status() }]),
    run([{ type: 'status', status: status({ mode: 'monitor' }) }]),
    run([{ type: 'status', status: status({ pending: 1 }) }]),
    run([{ type: 'status', status: status() }, { type: 'paused', until: NOW + 1000 }]),
    run([{ type: 'status', status: status() }, { type: 'enrollment', enrollment: 'not-enrolled' }]),
  ];
  const icons = new Set(models.map((m) => trayPresentation(m, NOW).icon));
  assert.equal(icons.size, 6);
});

test('enrollment from the daemon status: standalone, waiting for a secret, revoked, enrolled', () => {
  assert.equal(enrollmentOf(null, ''), 'standalone');
  assert.equal(enrollmentOf({ phase: 'idle', deviceId: 'dev_1' }, ''), 'standalone', 'no fleet server configured');
  assert.equal(enrollmentOf(null, 'https://fleet.example.com'), 'unknown', 'keychain unavailable: the daemon cannot tell');
  assert.equal(enrollmentOf({ phase: 'not-enrolled', deviceId: null }, 'https://fleet.example.com'), 'not-enrolled');
  assert.equal(enrollmentOf({ phase: 'revoked', deviceId: 'dev_1' }, 'https://fleet.example.com'), 'not-enrolled');
  assert.equal(enrollmentOf({ phase: 'backing-off', deviceId: 'dev_1' }, 'https://fleet.example.com'), 'enrolled');
  assert.equal(enrollmentOf({ phase: 'syncing', deviceId: null }, 'https://fleet.example.com'), 'unknown');
  assert.equal(trayState(run([{ type: 'status', status: status() }, { type: 'enrollment', enrollment: enrollmentOf({ phase: 'not-enrolled', deviceId: null }, 'https://f.example') }]), NOW), 'not-enrolled');
});
